"""Run the real clients (pdflatex, bibtex, biber, pandoc) on exported files.

Missing binaries skip the test on a developer's machine and fail it in CI, where
``.ci/run`` installs them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_HINT = (
    "sudo apt-get install texlive-latex-base texlive-latex-recommended "
    "texlive-bibtex-extra biber pandoc (or run bash .ci/run)"
)
TIMEOUT = 300


def need(*binaries: str) -> None:
    """Skip (fail under CI) unless every binary is on PATH."""
    missing = [b for b in binaries if shutil.which(b) is None]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed: {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def pdflatex(cwd: Path, name: str = "doc") -> subprocess.CompletedProcess[str]:
    return run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name], cwd)


@dataclass
class Compiled:
    """What a LaTeX + bibliography run left behind, for the tests to inspect."""

    folder: Path
    bib_returncode: int
    bib_output: str
    latex_returncodes: list[int]

    def read(self, suffix: str) -> str:
        return (self.folder / f"doc{suffix}").read_text(encoding="utf-8", errors="replace")

    @property
    def latex_errors(self) -> list[str]:
        return [line for line in self.read(".log").splitlines() if line.startswith("! ")]

    @property
    def bibtex_warnings(self) -> list[str]:
        """bibtex's "Warning--" lines from the .blg."""
        return [line for line in self.read(".blg").splitlines() if line.startswith("Warning--")]

    @property
    def undefined_citations(self) -> list[str]:
        return re.findall(r"Citation `([^']*)' .*undefined", self.read(".log"))


BIBTEX_DOCUMENT = r"""\documentclass{article}
%(fontenc)s
\usepackage[utf8]{inputenc}
\usepackage{url}
%(packages)s
\begin{document}
\nocite{*}
\bibliographystyle{%(style)s}
\bibliography{refs}
\end{document}
"""

# safeinputenc: biber recodes UTF-8 to LaTeX macros for pdflatex (not needed with lualatex).
BIBLATEX_DOCUMENT = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage[backend=biber,style=%(style)s,safeinputenc]{biblatex}
\addbibresource{refs.bib}
\begin{document}
\nocite{*}
\printbibliography
\end{document}
"""


def compile_bibtex(folder: Path, bib: str, style: str, *, t1: bool = True) -> Compiled:
    """pdflatex, bibtex, pdflatex, pdflatex: the sequence every LaTeX user runs.

    ``t1=False`` leaves out ``fontenc``: LaTeX's default OT1 encoding, which many
    documents still use.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "refs.bib").write_text(bib, encoding="utf-8")
    packages = r"\usepackage{natbib}" if style.endswith("nat") else ""
    fontenc = r"\usepackage[T1]{fontenc}" if t1 else ""
    document = BIBTEX_DOCUMENT % {"packages": packages, "style": style, "fontenc": fontenc}
    (folder / "doc.tex").write_text(document, encoding="utf-8")
    codes = [pdflatex(folder).returncode]
    bib_run = run(["bibtex", "doc"], folder)
    codes += [pdflatex(folder).returncode, pdflatex(folder).returncode]
    return Compiled(folder, bib_run.returncode, bib_run.stdout + bib_run.stderr, codes)


def compile_biblatex(folder: Path, bib: str, style: str = "authoryear") -> Compiled:
    """pdflatex, biber, pdflatex."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "refs.bib").write_text(bib, encoding="utf-8")
    (folder / "doc.tex").write_text(BIBLATEX_DOCUMENT % {"style": style}, encoding="utf-8")
    codes = [pdflatex(folder).returncode]
    bib_run = run(["biber", "doc"], folder)
    codes.append(pdflatex(folder).returncode)
    return Compiled(folder, bib_run.returncode, bib_run.stdout + bib_run.stderr, codes)


PANDOC_DOCUMENT = "---\nnocite: '@*'\n---\n"


def pandoc_bibliography(folder: Path, filename: str, content: str) -> str:
    """The plain-text bibliography pandoc's citeproc makes from one bibliography file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_text(content, encoding="utf-8")
    (folder / "doc.md").write_text(PANDOC_DOCUMENT, encoding="utf-8")
    args = ["pandoc", "-f", "markdown", "-t", "plain", "--wrap=none", "--citeproc"]
    result = run([*args, "--bibliography", filename, "doc.md"], folder)
    assert result.returncode == 0, result.stderr
    assert "[WARNING]" not in result.stderr, result.stderr
    return result.stdout


def letters(text: str) -> str:
    """Letters and digits only, case-folded: to find a title whatever a style did to it."""
    return "".join(c for c in text.casefold() if c.isalnum())
