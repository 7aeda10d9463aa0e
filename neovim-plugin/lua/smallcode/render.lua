-- The server's {data, text} answers as lines for the floating window.
local M = {}

local function split(text)
  return vim.split(text or "", "\n", { plain = true, trimempty = false })
end

--- `text` on one line (newlines and runs of blanks become one space), cut at a word with "…" to fit `width`
--- display cells.
function M.one_line(text, width)
  local flat = vim.trim((tostring(text or ""):gsub("%s+", " ")))
  if vim.fn.strdisplaywidth(flat) <= width then
    return flat
  end
  local cut = vim.fn.strcharpart(flat, 0, width - 1)
  if vim.fn.strcharpart(flat, width - 1, 1) ~= " " then
    cut = cut:match("^(.*%S)%s") or cut -- back to the last whole word
  end
  return vim.trim(cut) .. "…"
end

--- Lines for smallcode.ask: the model's answer, then each proposed edit and what became of it.
function M.ask(reply)
  local lines = split(reply.text ~= "" and reply.text or "done")
  local err = type(reply.error) == "string" and reply.error or "failed"
  if reply.ok == false and not err:match("^stopped") then -- busy, failed, cancelled or crashed: the error first
    lines = vim.list_extend(split("Failed: " .. err), err ~= reply.text and lines or {})
  end -- (stopped by the user's choice in a review: the text says so, it is no failure)
  local edits = type(reply.data) == "table" and reply.data.edits or nil
  if type(edits) == "table" and #edits > 0 then
    table.insert(lines, "")
    table.insert(lines, "Edits:")
    vim.list_extend(lines, M.edit_lines(edits, "  "))
  end
  return lines
end

--- One line per proposed edit and what became of it: "✓ calc.py (applied)", "◐ … (partial)", "✗ … (rejected)".
function M.edit_lines(edits, indent)
  local marks = { applied = "✓", partial = "◐", rejected = "✗", pending = "…" }
  local lines = {}
  for _, edit in ipairs(edits) do
    table.insert(lines, string.format("%s%s %s (%s)", indent or "", marks[edit.status] or "?", edit.path, edit.status))
  end
  return lines
end

--- Lines for any slash command (the server's text is already meant for people), a failure marked.
function M.command(reply)
  local lines = split(reply.text)
  if reply.ok == false then
    table.insert(lines, 1, "Failed:")
  end
  return lines
end

--- Lines for smallcode.diff: the unified diffs of this run's edits.
function M.diff(reply)
  local text = type(reply.data) == "table" and reply.data.diff or ""
  if text == nil or text == "" or text == vim.NIL then
    return { "no edits proposed in this run" }
  end
  return split((text:gsub("\n$", "")))
end

return M
