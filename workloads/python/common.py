"""What every Python twin shares: the PRNG, the checksum, size presets and parameter parsing.

Each module in this folder is the Python twin of the Rust workload with the same name: it takes
the same parameters, makes the same seeded choices in the same order, builds the same objects
(instances are classes with ``__slots__`` and ``__weakref__``, as the Rust model's instances are)
and returns the same checksum. ``run.py`` is the entry point.
"""

MASK = (1 << 64) - 1


class SplitMix64:
    """Vigna's SplitMix64, drawn from exactly as ``workloads/src/rng.rs`` draws from it."""

    __slots__ = ("state",)

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform in ``range(n)``: the high 64 bits of ``next_u64() * n``."""
        assert n > 0, "below(0) has no value to return"
        return (self.next_u64() * n) >> 64

    index = below

    def unit(self):
        """Uniform in [0, 1) with 53 random bits; what Rust's ``rand`` draws for an f64."""
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def chance(self, p):
        return self.unit() < p


class Checksum:
    """FNV-1a over 64-bit words, as ``workloads::Checksum``."""

    __slots__ = ("value",)
    OFFSET = 0xCBF29CE484222325
    PRIME = 0x100000001B3

    def __init__(self):
        self.value = self.OFFSET

    def mix(self, word):
        self.value = ((self.value ^ (word & MASK)) * self.PRIME) & MASK

    def hex(self):
        return format(self.value, "016x")


SIZES = ("smoke", "small", "default", "large")


def preset(size, smoke, small, default, large):
    """The value a size preset gives a parameter."""
    return {"smoke": smoke, "small": small, "default": default, "large": large}[size]


def parse_bool(text):
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(f"expected true or false, got {text!r}")


class Params:
    """Explicit ``name=value`` parameters; every one must be read, so a typo is an error."""

    def __init__(self, workload, pairs):
        self.workload = workload
        self.values = dict(pairs)
        self.read = set()

    def get(self, name, default, parse=int):
        self.read.add(name)
        if name not in self.values:
            return default
        try:
            return parse(self.values[name])
        except ValueError as error:
            raise SystemExit(f"workload `{self.workload}`: parameter `{name}` = `{self.values[name]}`: {error}")

    def check_all_read(self):
        unknown = sorted(set(self.values) - self.read)
        if unknown:
            raise SystemExit(f"workload `{self.workload}` has no parameter `{unknown[0]}`")


class Checkpoints:
    """Where the Rust workload calls ``heap.startup_done()`` / ``heap.request_done()``, the twin
    calls these; ``run.py`` hooks them to time requests."""

    def __init__(self, collect_on_request=True):
        self.on_startup_done = None
        self.on_request_done = None
        self.collect_requested = 0
        # False under ``run.py --no-gc``: the program's ``gc.collect()`` calls are counted but
        # skipped, as ``Heap::program_collect`` does nothing under pure refcounting.
        self.collect_on_request = collect_on_request

    def startup_done(self):
        if self.on_startup_done:
            self.on_startup_done()

    def request_done(self):
        if self.on_request_done:
            self.on_request_done()

    def collect(self):
        """The program calls ``gc.collect()`` (``Heap::program_collect`` on the Rust side)."""
        import gc

        self.collect_requested += 1
        if self.collect_on_request:
            gc.collect()
