"""Speed of the installed llama.cpp build itself (no server, no agent): prompt and generation tokens/s on a GGUF,
to compare two builds of llama-cpp-python on one machine (e.g. the portable one against -march=native).

    python scripts/bench_llama_build.py MODEL.gguf [--threads 1] [--prompt-tokens 512] [--gen-tokens 64]
    /other/venv/bin/python scripts/bench_llama_build.py MODEL.gguf      # the other build, same machine

Needs only llama_cpp (it imports nothing from SmallCode), so it runs in any environment that has a build.
Prints one JSON line: load seconds, prompt and generation tokens/s (llama.cpp's own timings), best of --repeat.
Pin it to one core on a shared machine (`taskset -c 1 ...`) and compare medians of several runs.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="path to a GGUF")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--gen-tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ubatch", type=int, default=512)
    parser.add_argument("--flash-attn", action="store_true")
    args = parser.parse_args()

    import llama_cpp

    started = time.perf_counter()
    llm = llama_cpp.Llama(
        model_path=args.model,
        n_ctx=args.ctx,
        n_batch=args.batch,
        n_ubatch=args.ubatch,
        flash_attn=args.flash_attn,
        n_threads=args.threads,
        n_threads_batch=args.threads,
        verbose=False,
    )
    load = time.perf_counter() - started
    best_prompt = best_gen = 0.0
    for _ in range(args.repeat):
        # A fresh prompt each time (no cache reuse), cut to exactly --prompt-tokens tokens.
        text = f"[{uuid.uuid4()}] " + " ".join(
            f"def f{i}(x): return x * {i}" for i in range(args.prompt_tokens)
        )
        tokens = llm.tokenize(text.encode())[: args.prompt_tokens]
        llm.reset()
        llama_cpp.llama_perf_context_reset(llm.ctx)
        for out, _token in enumerate(llm.generate(tokens, temp=0.0, reset=True), start=1):
            if out >= args.gen_tokens:
                break
        perf = llama_cpp.llama_perf_context(llm.ctx)
        if perf.t_p_eval_ms > 0:
            best_prompt = max(best_prompt, perf.n_p_eval / (perf.t_p_eval_ms / 1000))
        if perf.t_eval_ms > 0:
            best_gen = max(best_gen, perf.n_eval / (perf.t_eval_ms / 1000))
    print(
        json.dumps(
            {
                "llama_cpp": llama_cpp.__version__,
                "threads": args.threads,
                "ubatch": args.ubatch,
                "flash_attn": args.flash_attn,
                "load_s": round(load, 2),
                "prompt_tokens": args.prompt_tokens,
                "prompt_tok_s": round(best_prompt, 1),
                "gen_tok_s": round(best_gen, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
