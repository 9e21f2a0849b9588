"""The benchmark harness runs end to end (speed itself is never asserted)."""
import pytest

from benchmarks import bench


def test_quick_run_of_w1_in_minigrad(capsys):
    results = bench.main(["--quick", "--workloads", "W1", "--frameworks", "minigrad"])
    runs = results["W1"]["minigrad"]
    assert len(runs) == 1 and len(runs[0]["times"]) == 3
    assert all(t > 0 for t in runs[0]["times"]) and runs[0]["peak_rss_mb"] > 0
    printed = capsys.readouterr().out
    assert "| W1 784-256-784 sigmoid AE" in printed and "minigrad ms/step" in printed


def test_unknown_workload_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--workloads", "W9"])
    assert "unknown workloads/frameworks ['W9']" in capsys.readouterr().err
