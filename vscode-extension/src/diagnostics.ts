// `#diagnostics` in an ask's prompt: the diagnostics of every source on the asked lines (the whole file without a
// selection) go with the request, in LSP's shape, as a code action's do. Plain data in and out (testable
// without VS Code).

export interface LineRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface EditorDiagnostic {
  range: LineRange;
  message: string;
  severity?: number;
  source?: string;
  code?: string | number | { value: string | number };
}

export interface LspDiagnostic {
  range: LineRange;
  message: string;
  severity?: number;
  source?: string;
  code?: string | number;
}

export const DIAGNOSTICS_REFERENCE = '#diagnostics';
const MAX_DIAGNOSTICS = 20;

/** The diagnostics a prompt asks for with `#diagnostics`, on the lines of `range` (all without one); [] when
 * the prompt does not ask. VS Code's severities (Error 0 … Hint 3) become LSP's (1 … 4). */
export function referencedDiagnostics(prompt: string | undefined, diagnostics: readonly EditorDiagnostic[], range?: LineRange): LspDiagnostic[] {
  if (!prompt?.includes(DIAGNOSTICS_REFERENCE)) return [];
  const inRange = (d: EditorDiagnostic) => !range || (d.range.start.line <= range.end.line && d.range.end.line >= range.start.line);
  return diagnostics.filter(inRange).slice(0, MAX_DIAGNOSTICS).map((d) => ({
    range: { start: { ...d.range.start }, end: { ...d.range.end } },
    message: d.message,
    ...(d.severity !== undefined ? { severity: d.severity + 1 } : {}),
    ...(d.source ? { source: d.source } : {}),
    ...(d.code !== undefined ? { code: typeof d.code === 'object' ? d.code.value : d.code } : {}),
  }));
}
