"""chainrule vs PyTorch CPU eager: training speed, inference speed and memory, side by side.

Run from the repository root (PyTorch CPU must be installed; ``threadpoolctl`` is optional and
lets the report name the BLAS kernel and confirm its thread count)::

    python -m benchmarks                       # full suite at 1 and 2 threads
    python -m benchmarks --threads 1 --cases 2 3 op --out bench/results
    python -m benchmarks --quick               # a few steps of each case (CI smoke test)
    python -m benchmarks.profiling --cases 3   # where chainrule's time goes (cProfile, perf)

Each case trains the same model on the same data with the same batch size, initial weights
(PyTorch's, copied through ``load_state_dict``), float32 and optimizer in both libraries, checks
that the first losses agree, then times the two alternately in rounds. See ``harness`` (timing),
``memory`` (peak memory method and its limits), ``micro`` (per-op overhead, GEMM limit) and
``cases`` (the models).
"""
