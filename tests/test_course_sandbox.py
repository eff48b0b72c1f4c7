"""The sandbox's command line and the course CLI (fast: no kernels)."""
from __future__ import annotations

import pytest

from cnnlab.course.config import COURSE_ROOT
from cnnlab.course.sandbox import bwrap_command

pytestmark = [pytest.mark.ps1]


def _binds(cmd, flag):
    return [cmd[i + 1] for i, arg in enumerate(cmd) if arg == flag]


def test_bwrap_command_confines_the_kernel(tmp_path):
    work, run = tmp_path / "work", tmp_path / "run"
    cmd = bwrap_command(str(work), str(run))
    assert cmd[0] == "bwrap" and cmd[-1] == "--"
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--remount-ro"):
        assert flag in cmd, flag
    assert sorted(_binds(cmd, "--bind")) == sorted([str(work), str(run)]), "only the working copy is writable"
    ro = _binds(cmd, "--ro-bind")
    assert "/usr" in ro and str(COURSE_ROOT / "cnnlab") in ro
    for path in ro:  # nothing that contains the course's solutions or gradebook
        for secret in (COURSE_ROOT / "solutions", COURSE_ROOT / "gradebook.db", tmp_path):
            assert not secret.is_relative_to(path), f"{path} exposes {secret}"
    assert cmd[cmd.index("--chdir") + 1] == str(work)


def test_cli_rejects_unknown_assignment(capsys):
    from cnnlab.course.cli import main

    assert main(["autograde", "ps9", "--submissions", "."]) == 2
    assert "unknown assignment" in capsys.readouterr().err


def test_cli_help_lists_commands(capsys):
    from cnnlab.course.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "release" in out and "autograde" in out and "demo" in out


def test_cli_limits_reach_the_grader():
    from cnnlab.course.cli import _limits, _parser

    args = _parser().parse_args(["autograde", "ps1", "--submissions", ".", "--timeout", "7", "--notebook-timeout",
                                 "70", "--memory", "512", "--cpu", "90", "--sandbox", "none"])
    lim = _limits(args)
    assert (lim.cell_timeout, lim.notebook_timeout, lim.memory_mb, lim.cpu_limit, lim.sandbox) == (7, 70, 512, 90, "none")
    default = _limits(_parser().parse_args(["autograde", "ps1", "--submissions", "."]))
    assert default.cpu_limit == 2 * default.notebook_timeout


def test_submission_symlinks_are_not_followed(tmp_path):
    from cnnlab.course.bundle import read_submission

    src = tmp_path / "alice" / "ps1"
    src.mkdir(parents=True)
    (src / "ps1.ipynb").write_text("{}")
    (src / "answers.ipynb").symlink_to(COURSE_ROOT / "solutions" / "ps1" / "ps1.ipynb")
    (src / "sol").symlink_to(COURSE_ROOT / "solutions", target_is_directory=True)
    files, others, notes = read_submission(src, ["ps1.ipynb", "answers.ipynb"])
    assert files == {"ps1.ipynb": b"{}"} and others == []
    assert notes == ["symbolic link answers.ipynb ignored", "symbolic link sol ignored"]
