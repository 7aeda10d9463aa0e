"""Check that the installed llama.cpp (llama-cpp-python's bundled libllama/libggml*.so) runs on any x86-64 CPU
with AVX2: no instruction beyond the portable baseline the project builds for (requirements/llama-portable.txt:
SSE4.2, AVX, AVX2, FMA, F16C, BMI2).

    python scripts/check_portable_build.py                          # the llama_cpp this Python imports
    python scripts/check_portable_build.py --python /tmp/v/bin/python   # another environment's
    python scripts/check_portable_build.py --lib-dir DIR             # any directory of .so files

Disassembles every shared library with objdump (binutils) and flags:
- EVEX-encoded instructions (first opcode byte 0x62 in 64-bit code): every AVX-512 instruction, whatever its
  registers (zmm, or xmm/ymm through AVX512VL), and AVX-512 FP16/BF16/VNNI;
- zmm registers and the opmask registers k0-k7 (should an EVEX instruction slip past the byte check);
- AMX tile instructions and tmm registers;
- `{vex}` forms (AVX-VNNI, AVX-IFMA, AVX-NE-CONVERT): newer than AVX2, missing on many AVX2 CPUs.

llama.cpp built with -march=native on a CPU with AVX-512 fails this check (hundreds of EVEX instructions); the
portable build passes. This build has no runtime-dispatched CPU variants (llama-cpp-python 0.3.36 does not load
GGML_BACKEND_DL backends), so the whole library is its default CPU path and every instruction counts.
Exit status: 0 clean, 1 instructions beyond the baseline found, 2 nothing to check (no objdump, no library).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_LEGACY_PREFIXES = {"66", "67", "f2", "f3", "2e", "3e", "26", "64", "65", "36", "f0"}
_AMX = re.compile(
    r"^(ldtilecfg|sttilecfg|tileloadd|tileloaddt1|tilestored|tilezero|tilerelease|tdp\w+|tcmmi\w+)$"
)
_WIDE_REGISTERS = re.compile(r"%(zmm\d+|k[0-7]|tmm\d+)\b")
# "  4011a0:\t62 f1 7c 48 10 04 24 \tvmovups (%rsp),%zmm0" (bytes, then mnemonic and operands)
_INSN = re.compile(r"^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)\s*\t(.*)$")
_FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")


@dataclass
class Finding:
    """What one library holds beyond the baseline: counts by kind, and a few examples with their function."""

    path: Path
    instructions: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    functions: Counter[str] = field(default_factory=Counter)

    @property
    def clean(self) -> bool:
        return not self.kinds


def classify(raw_bytes: str, text: str) -> str | None:
    """Why one disassembled instruction is beyond the AVX2 baseline, or None when it is within it.

    `raw_bytes` is objdump's hex column ("62 f1 7c 48 10 04 24"), `text` the mnemonic and operands."""
    parts = raw_bytes.split()
    opcode = next((b for b in parts if b not in _LEGACY_PREFIXES), "")
    words = text.split()
    mnemonic = words[0] if words else ""
    if mnemonic in ("{vex}", "{evex}") and len(words) > 1:
        if mnemonic == "{vex}":
            return "vex-only extension (AVX-VNNI/IFMA/NE-CONVERT)"
        mnemonic = words[1]
    if _AMX.match(mnemonic) or "%tmm" in text:
        return "AMX"
    if opcode == "62":
        return "AVX-512 (EVEX)"
    if _WIDE_REGISTERS.search(text):
        return "AVX-512 registers (zmm/k)"
    return None


def scan(path: Path, objdump: str = "objdump") -> Finding:
    finding = Finding(path)
    proc = subprocess.Popen(
        [objdump, "-d", "--wide", str(path)], stdout=subprocess.PIPE, text=True, errors="replace"
    )
    assert proc.stdout is not None
    function = "?"
    for line in proc.stdout:
        if line and line[0] in "0123456789abcdef":
            m = _FUNCTION.match(line.rstrip("\n"))
            if m:
                function = m.group(1)
            continue
        m = _INSN.match(line.rstrip("\n"))
        if not m:
            continue
        finding.instructions += 1
        kind = classify(m.group(1), m.group(2))
        if kind is None:
            continue
        finding.kinds[kind] += 1
        finding.functions[function] += 1
        if len(finding.examples) < 5:
            finding.examples.append(f"{function}: {' '.join(m.group(2).split())}")
    if proc.wait() != 0:
        raise RuntimeError(f"objdump failed on {path} (exit {proc.returncode})")
    return finding


def installed_lib_dir(python: str | None = None) -> Path:
    """llama_cpp's bundled library directory, for this interpreter or another one."""
    code = (
        "import importlib.util, os; s = importlib.util.find_spec('llama_cpp'); "
        "print(os.path.join(os.path.dirname(s.origin), 'lib') if s and s.origin else '')"
    )
    out = subprocess.run(
        [python or sys.executable, "-c", code], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not out:
        raise FileNotFoundError(f"llama_cpp is not installed for {python or sys.executable}")
    return Path(out)


def libraries(directory: Path) -> list[Path]:
    """Every shared library in `directory`, each distinct file once (libx.so, .so.0, .so.0.1 are copies)."""
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.so*")):
        if not path.is_file():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen or len(path.name) < len(seen[digest].name):
            seen[digest] = path
    return sorted(seen.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--python", help="check the llama_cpp installed for this interpreter")
    where.add_argument("--lib-dir", type=Path, help="check the .so files in this directory")
    args = parser.parse_args(argv)
    objdump = shutil.which("objdump")
    if objdump is None:
        print("check_portable_build: objdump not found (apt-get install binutils)", file=sys.stderr)
        return 2
    try:
        directory = args.lib_dir or installed_lib_dir(args.python)
    except FileNotFoundError as exc:
        print(f"check_portable_build: {exc}", file=sys.stderr)
        return 2
    libs = libraries(directory)
    if not libs:
        print(f"check_portable_build: no shared libraries in {directory}", file=sys.stderr)
        return 2
    dirty = 0
    for lib in libs:
        finding = scan(lib, objdump)
        if finding.clean:
            print(f"ok    {lib.name}: {finding.instructions} instructions, none beyond AVX2")
            continue
        dirty += 1
        kinds = ", ".join(f"{n} {k}" for k, n in finding.kinds.most_common())
        print(f"FAIL  {lib.name}: {kinds} in {len(finding.functions)} functions, e.g.")
        for example in finding.examples:
            print(f"        {example}")
    print(
        f"{directory}: {'portable (AVX2 baseline)' if not dirty else f'{dirty} of {len(libs)} libraries need more than AVX2'}"
    )
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
