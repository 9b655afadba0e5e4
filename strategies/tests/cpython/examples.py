"""The classic cycle-collector examples under real CPython, one `name value` line each.

`tests/cpython_examples.rs` runs this with `python3` and checks every figure against the values
that `tests/collector.rs` expects of our collector: both sides must tell the same story.
Every example starts from a quiet collector: automatic collection off, garbage collected.
"""
import gc
import sys
import weakref


class S:
    __slots__ = ("other", "__weakref__")


class R:
    __slots__ = ("other", "__weakref__")
    calls = 0

    def __del__(self):
        R.calls += 1
        saved.append(self)


class D:
    __slots__ = ("other", "__weakref__")
    calls = 0

    def __del__(self):
        D.calls += 1


saved = []
calls = []


def record_call(ref):
    """A weakref callback that is a module-level function, so it is never garbage itself."""
    calls.append(ref() is None)


def quiet():
    gc.disable()
    gc.collect()


def two_node_cycle(cls=S):
    a, b = cls(), cls()
    a.other, b.other = b, a
    return a, b


def report(name, value):
    print(name, value)


def main():
    quiet()
    two_node_cycle()
    report("two_node_cycle", gc.collect())

    quiet()
    l = []
    l.append(l)
    del l
    report("self_list", gc.collect())
    d = {}
    d["self"] = d
    del d
    report("self_dict", gc.collect())

    quiet()
    a, b = two_node_cycle()
    w = weakref.ref(a, record_call)
    del a, b
    report("weakref_live_collect", gc.collect())
    report("weakref_live_calls", len(calls))
    report("weakref_cleared", w() is None)

    quiet()
    calls.clear()
    a, b = S(), S()
    lst = [a]
    a.other, b.other = b, lst
    lst.append(weakref.ref(a, record_call))
    del a, b, lst
    report("weakref_garbage_collect", gc.collect())
    report("weakref_garbage_calls", len(calls))

    quiet()
    holder = {}
    a, b = two_node_cycle()
    holder[1] = weakref.ref(a, lambda ref: holder.pop(1))
    del a, b
    report("weakref_self_freeing_collect", gc.collect())

    quiet()
    r, s = R(), S()
    r.other, s.other = s, r
    del r, s
    report("resurrect_first_collect", gc.collect())
    report("resurrect_calls", R.calls)
    report("resurrect_finalized", gc.is_finalized(saved[0]))
    saved.clear()
    report("resurrect_second_collect", gc.collect())
    report("resurrect_calls_after", R.calls)

    quiet()
    two_node_cycle(D)
    report("finalizers_collect", gc.collect())
    report("finalizers_calls", D.calls)

    quiet()
    two_node_cycle()
    gc.freeze()
    report("frozen_collect", gc.collect())
    gc.unfreeze()
    report("unfrozen_collect", gc.collect())


if __name__ == "__main__":
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"these figures are CPython 3.11's; this is {sys.version.split()[0]}")
    main()
