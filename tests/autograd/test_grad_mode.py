"""Grad switches: per thread and context, plain calls, decorators of functions and generators."""

import threading

import pytest

import chainrule as cr


def test_one_no_grad_object_shared_by_threads_is_independent_per_thread():
    shared = cr.no_grad()
    start = threading.Barrier(4)
    inside, errors = [], []

    def worker():
        try:
            start.wait()
            for _ in range(200):
                with shared:
                    inside.append(cr.is_grad_enabled())
            inside.append(("after", cr.is_grad_enabled()))
        except Exception as e:  # the bug: ValueError from a token of another context
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert inside.count(False) == 800
    assert inside.count(("after", True)) == 4
    assert cr.is_grad_enabled()


def test_one_no_grad_object_nested_in_itself_restores_each_level():
    ng = cr.no_grad()
    with ng:
        with cr.enable_grad():
            with ng:
                assert not cr.is_grad_enabled()
            assert cr.is_grad_enabled()
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


def test_set_grad_enabled_as_a_plain_call_switches_at_once():
    x = cr.randn(2, requires_grad=True)
    try:
        cr.set_grad_enabled(False)
        assert not cr.is_grad_enabled()
        assert not (x * 2).requires_grad
        cr.set_grad_enabled(True)
        assert (x * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)


def test_set_grad_enabled_as_block_and_decorator_restore():
    with cr.set_grad_enabled(False):
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()

    @cr.set_grad_enabled(False)
    def f():
        return cr.is_grad_enabled()

    assert cr.is_grad_enabled()  # decorating switches nothing
    assert f() is False and cr.is_grad_enabled()


def test_inference_mode_context_and_decorator():
    x = cr.randn(2, requires_grad=True)
    with cr.inference_mode():
        assert cr.is_inference_mode_enabled() and not cr.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert not cr.is_inference_mode_enabled() and cr.is_grad_enabled()

    @cr.inference_mode()
    def predict(t):
        return t * 2

    assert not predict(x).requires_grad
    with cr.inference_mode(False):
        assert (x * 2).requires_grad


def test_no_grad_decorating_a_generator_applies_inside_it_only():
    x = cr.randn(2, requires_grad=True)

    @cr.no_grad()
    def gen():
        for _ in range(3):
            yield (x * 2).requires_grad, cr.is_grad_enabled()

    seen = []
    for item in gen():
        seen.append(item)
        assert cr.is_grad_enabled()  # the caller's loop body keeps its own mode
    assert seen == [(False, False)] * 3


def test_enable_grad_decorating_a_generator_inside_no_grad():
    x = cr.randn(2, requires_grad=True)

    @cr.enable_grad()
    def gen():
        yield (x * 2).requires_grad
        received = yield cr.is_grad_enabled()
        yield received

    with cr.no_grad():
        g = gen()
        assert next(g) is True
        assert next(g) is True
        assert not cr.is_grad_enabled()
        assert g.send("hi") == "hi"
        with pytest.raises(StopIteration):
            next(g)


def test_switch_objects_leave_nothing_behind_in_the_context():
    import contextvars

    before = len(contextvars.copy_context())
    for _ in range(1000):
        with cr.no_grad():
            with cr.enable_grad():
                pass
    assert len(contextvars.copy_context()) == before
