"""Peak memory of one training step (or one inference forward), above the level before it.

Method. Before the measured step the gradients are dropped (``zero_grad``, as the step itself
would do first) so that both sides start from parameters + optimizer state + data. Then:

* chainrule: ``tracemalloc`` traces the step. NumPy reports every array buffer it allocates to
  tracemalloc, so the traced peak is the largest amount of array data (plus the small Python
  objects: tensors, graph nodes) alive at once during the step, above the starting level.
* PyTorch: the profiler with ``profile_memory=True`` records every allocation and free of
  PyTorch's CPU allocator; the running sum of those events, in time order, peaks at the same
  quantity for tensor storage.

Limits: both count only what the framework allocates through its own allocator. Memory that
BLAS, oneDNN or OpenMP take privately (packing buffers, scratchpads, thread stacks) is invisible
to both; PyTorch's Python objects are not counted (chainrule's are, and are small). Process RSS
is not used: it is page-granular, includes freed-but-cached heap and is polluted by imports.
"""

import gc
import itertools
import tracemalloc


def chainrule_peak(side):
    """Bytes: peak traced allocation during one step of a chainrule side."""
    side.before_step()
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = side.step()
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    del out
    return peak


def torch_peak(side, torch):
    """Bytes: peak of the running sum of PyTorch's CPU allocations during one step."""
    from torch.profiler import ProfilerActivity, profile

    side.before_step()
    gc.collect()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = side.step()
    del out
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_ns())
    sizes = itertools.accumulate(e.nbytes() for e in events)
    return max(itertools.chain([0], sizes))
