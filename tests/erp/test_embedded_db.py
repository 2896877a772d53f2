"""The embedded database's handle file survives processes killed without clean-up (STACK.md trap)."""

import json
import os
import subprocess
import sys

from erp.embedded_db import _drop_dead_pids


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_drop_dead_pids_keeps_only_live_processes(tmp_path):
    # given a handle file with this process and one that died without cleaning up
    (tmp_path / ".handle_pids.json").write_text(json.dumps([os.getpid(), _dead_pid()]))

    # when
    alive = _drop_dead_pids(tmp_path)

    # then
    assert alive == [os.getpid()]
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [os.getpid()]


def test_drop_dead_pids_treats_an_empty_or_broken_file_as_no_handles(tmp_path):
    for content in ("", "{not json", '{"a": 1}'):
        # given
        (tmp_path / ".handle_pids.json").write_text(content)

        # when / then
        assert _drop_dead_pids(tmp_path) == []
        assert json.loads((tmp_path / ".handle_pids.json").read_text()) == []


def test_drop_dead_pids_without_a_file_does_nothing(tmp_path):
    assert _drop_dead_pids(tmp_path) == []
    assert not (tmp_path / ".handle_pids.json").exists()
