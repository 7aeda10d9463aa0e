"""Benchmark the language server (not a timed test): start time, memory, and codeLens / codeAction latency
while idle and while an agent run waits on a (deliberately slow) model.

    python scripts/bench_lsp.py [--requests 50] [--model-delay 3]

The model is the scripted OpenAI-compatible server from the tests (real HTTP), so numbers measure the server,
not a model.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.scripted_server import ScriptedModelServer  # noqa: E402


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def timed(make: Any, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await make()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{name:<28} median {statistics.median(samples):7.2f} ms   p95 {p95:7.2f} ms   max {max(samples):7.2f} ms"


async def main(requests: int, delay: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="smallcode-bench-lsp-"))
    (work / "app.py").write_text("def f(x):\n    return x\n# agent: add a docstring\n" * 50)
    uri = from_fs_path(str(work / "app.py")) or ""
    model = ScriptedModelServer([{"content": "slow answer", "delay": delay}]).start()
    client = LanguageClient("bench", "0.1")

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def progress_create(params: Any) -> None:
        return None

    for method in (types.PROGRESS, types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE, "smallcode/stream"):
        client.feature(method)(lambda params: None)

    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "lsp_server", "--log-file", str(work / "server.log"))
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)
            ),
            root_uri=from_fs_path(str(work)),
            initialization_options={"baseUrl": model.base_url, "model": "scripted-model", "trace": False},
        )
    )
    client.initialized(types.InitializedParams())
    start_ms = (time.perf_counter() - started) * 1000
    pid = client._server.pid if client._server else 0  # type: ignore[attr-defined]
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=(work / "app.py").read_text()
            )
        )
    )
    doc = types.TextDocumentIdentifier(uri=uri)
    rng = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=2, character=0))

    def lens() -> Any:
        return client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))

    def action() -> Any:
        return client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=doc, range=rng, context=types.CodeActionContext(diagnostics=[])
            )
        )

    idle_lens, idle_action = await timed(lens, requests), await timed(action, requests)
    rss_idle = rss_mb(pid)
    run = asyncio.ensure_future(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="smallcode.ask", arguments=[{"prompt": "slow task", "uri": uri}]
            )
        )
    )
    while not model.requests:  # the run is now waiting on the slow model
        await asyncio.sleep(0.01)
    busy_lens, busy_action = await timed(lens, requests), await timed(action, requests)
    await run
    rss_after = rss_mb(pid)

    print(f"server start (spawn → initialized)  {start_ms:8.1f} ms")
    print(f"server memory (RSS)                 {rss_idle:8.1f} MB idle, {rss_after:.1f} MB after a run")
    print(summary("codeLens, idle", idle_lens))
    print(summary("codeAction, idle", idle_action))
    print(summary("codeLens, during a run", busy_lens))
    print(summary("codeAction, during a run", busy_action))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    model.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=50, help="requests per measurement (default 50)")
    parser.add_argument("--model-delay", type=float, default=3.0, help="seconds the model takes to answer")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.model_delay))
