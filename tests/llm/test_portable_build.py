"""The embedded model's llama.cpp runs on any x86-64 CPU with AVX2: the install builds it that way (the
requirements file the README and CI use), and the installed library holds no instruction beyond that baseline
(scripts/check_portable_build.py, objdump). The check itself is shown to fail on AVX-512 code."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from agent_core.llm.embedded import REINSTALL_PORTABLE, engine_missing

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements" / "llama-portable.txt"


def _check_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_portable_build", ROOT / "scripts/check_portable_build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


check = _check_module()


def requirement_line() -> str:
    lines = [ln for ln in REQUIREMENTS.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 1, lines
    return lines[0]


# --- the install: one pinned version, portable flags, used by the README and CI ---------------------------
def test_the_requirements_file_pins_the_version_the_extras_pin() -> None:
    pinned = re.match(r"llama-cpp-python\[server\]==(\S+) ", requirement_line())
    assert pinned, requirement_line()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in ("embedded", "embedded-fast"):
        llama = [d for d in extras[extra] if d.startswith("llama-cpp-python")]
        assert llama == [f"llama-cpp-python[server]=={pinned.group(1)}"], (extra, llama)


def test_the_requirements_file_builds_for_the_avx2_baseline() -> None:
    settings = dict(re.findall(r"--config-settings=cmake\.define\.(\w+)=(\w+)", requirement_line()))
    assert settings["GGML_NATIVE"] == "OFF"  # never -march=native
    for on in ("GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C"):
        assert settings[on] == "ON", on
    assert settings["GGML_AVX512"] == "OFF"
    assert not any(
        k.startswith(("GGML_AVX512_", "GGML_AMX", "GGML_AVX_VNNI")) and v == "ON" for k, v in settings.items()
    )


def test_ci_and_the_readme_install_through_the_requirements_file() -> None:
    ci = (ROOT / ".ci/run").read_text()
    assert re.search(
        r"pip install [^\n]*-r requirements/llama-portable\.txt [^\n]*'\.\[test,embedded-fast\]'", ci
    )
    assert "binutils" in ci  # objdump, for the portability test
    commands = "\n".join(ln for ln in ci.splitlines() if not ln.lstrip().startswith("#"))
    assert "GGML_NATIVE=ON" not in commands and "march=native" not in commands
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert first is not None
    command = next(ln for ln in first.group(1).splitlines() if "smallcode run" in ln)
    assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")  # PEP 668 systems
    assert "pip install -r requirements/llama-portable.txt '.[embedded]'" in command
    assert "requirements/llama-portable.txt" in REINSTALL_PORTABLE


# --- the check: what counts as beyond the baseline ----------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "text", "kind"),
    [
        ("62 f1 7c 48 10 04 24", "vmovups (%rsp),%zmm0", "AVX-512 (EVEX)"),
        ("62 f2 7d 28 50 c1", "vpdpbusd %ymm1,%ymm0,%ymm0", "AVX-512 (EVEX)"),  # AVX512VL: no zmm in sight
        ("67 62 f1 7d 48 6f 00", "vmovdqa32 (%eax),%zmm0", "AVX-512 (EVEX)"),
        ("c4 e2 7b 49 04 24", "ldtilecfg (%rsp)", "AMX"),
        ("c4 e2 7b 4b 0c 08", "tileloadd (%rax,%rcx,1),%tmm1", "AMX"),
        (
            "c4 e2 7d 50 c1",
            "{vex} vpdpbusd %ymm1,%ymm0,%ymm0",
            "vex-only extension (AVX-VNNI/IFMA/NE-CONVERT)",
        ),
        ("c5 f8 90 c1", "kmovw %k1,%k0", "AVX-512 registers (zmm/k)"),
        ("c4 e2 75 b8 c2", "vfmadd231ps %ymm2,%ymm1,%ymm0", None),  # AVX2 + FMA: the baseline
        ("c5 fc 10 04 24", "vmovups (%rsp),%ymm0", None),
        ("c4 e2 79 13 c0", "vcvtph2ps %xmm0,%xmm0", None),  # F16C
        ("c4 e2 fb f5 c1", "pdep %rcx,%rax,%rax", None),  # BMI2
        ("48 89 e5", "mov %rsp,%rbp", None),
        ("66 0f 38 00 c1", "pshufb %xmm1,%xmm0", None),
    ],
)
def test_each_instruction_is_judged_by_its_encoding(raw: str, text: str, kind: str | None) -> None:
    assert check.classify(raw, text) == kind


needs_tools = pytest.mark.skipif(
    shutil.which("objdump") is None or shutil.which("gcc") is None, reason="needs objdump and gcc (binutils)"
)

_KERNEL = """
#include <immintrin.h>
void scale(float *x, float k, int n) {
    for (int i = 0; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        _mm512_storeu_ps(x + i, _mm512_mul_ps(v, _mm512_set1_ps(k)));
    }
}
"""


@needs_tools
def test_the_check_fails_on_avx512_code_and_passes_the_same_code_built_for_avx2(tmp_path: Path) -> None:
    source = tmp_path / "k.c"
    source.write_text(_KERNEL)
    wide, narrow = tmp_path / "wide", tmp_path / "narrow"
    wide.mkdir()
    narrow.mkdir()
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", "-mavx512f", str(source), "-o", str(wide / "libk.so")], check=True
    )
    portable = "void scale(float *x, float k, int n) { for (int i = 0; i < n; i++) x[i] *= k; }\n"
    source.write_text(portable)
    subprocess.run(
        [
            "gcc",
            "-O3",
            "-shared",
            "-fPIC",
            "-mavx2",
            "-mfma",
            "-mf16c",
            str(source),
            "-o",
            str(narrow / "libk.so"),
        ],
        check=True,
    )
    assert check.main(["--lib-dir", str(wide)]) == 1
    finding = check.scan(wide / "libk.so")
    assert finding.kinds["AVX-512 (EVEX)"] > 0 and "scale" in finding.functions
    assert check.main(["--lib-dir", str(narrow)]) == 0


# --- the installed library -------------------------------------------------------------------------
@pytest.mark.skipif(bool(engine_missing()), reason="llama-cpp-python[server] not installed")
@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs objdump (binutils)")
@pytest.mark.skipif(
    not re.match(r"x86_64|amd64", __import__("platform").machine(), re.I), reason="the x86-64 baseline check"
)
def test_the_installed_llama_cpp_needs_nothing_beyond_avx2(capsys: pytest.CaptureFixture[str]) -> None:
    """Fails when llama-cpp-python was built natively on a CPU with AVX-512 (e.g. a bare `pip install`):
    reinstall it with REINSTALL_PORTABLE."""
    libs = check.libraries(check.installed_lib_dir())
    assert {p.name.split(".so")[0] for p in libs} >= {"libllama", "libggml", "libggml-base", "libggml-cpu"}
    status = check.main([])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "portable (AVX2 baseline)" in out
