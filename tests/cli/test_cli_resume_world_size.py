"""``chainrule train --resume`` refuses another number of ranks than the run was trained on
(here a one-process run whose checkpoint says 2 ranks; the real --nproc 2 run is in
tests/distributed/test_cli_nproc.py)."""

import chainrule as cr


def test_resume_with_another_world_size_is_refused_naming_both(chainrule, workdir, fast):
    assert chainrule("train", *fast, "--name", "r").exit_code == 0
    path = workdir / "runs" / "r" / "checkpoint.npz"
    raw = cr.load(path)
    assert raw["world_size"] == 1
    raw["world_size"] = 2
    cr.save(raw, path)
    before = path.read_bytes()
    done = chainrule("train", "--resume", "runs/r", "--epochs", "3")
    assert done.exit_code != 0
    text = " ".join(done.output.split())
    assert "trained on 2 MPI ranks (--nproc 2)" in text, done.output
    assert "would run on 1 process (no --nproc)" in text
    assert "resume it with --nproc 2" in text
    assert path.read_bytes() == before  # nothing trained or written
