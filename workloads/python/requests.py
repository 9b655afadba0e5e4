"""Twin of ``workloads/src/requests.rs``: an Instagram-like server, a big long-lived heap of
modules built at startup, then requests of short-lived objects, a fraction of them cyclic.

Dicts have int keys and are built empty, then filled one key at a time in the Rust order, so
CPython starts tracking each one when the model does; instances are classes with ``__slots__``
(``FIELDS`` names their slots in the Rust slot order); containers are made in the Rust order and
dropped when ``serve`` returns, as the Rust handles are. Where Rust's ``Startup`` counts an
instance or a tuple as it allocates it, ``Startup.count`` counts it once made. With ``grow``,
one more ``Startup`` (the grower) lives through the requests: one instance the model does not
make.
"""

from common import Checksum, SplitMix64, parse_bool, preset

MODULE_NAME = 0
MODULE_VERSION = 1
MODULE_CONFIG = 2
FIRST_MEMBER = 3
STATE_COUNTER = 0
STATE_POOL = 1

FUNCTIONS = (4, 15)
CLASSES = (1, 4)
METHODS_PER_CLASS = (2, 7)
CONFIG_SECTIONS = (2, 6)
SECTION_ENTRIES = (2, 7)
LIST_ITEMS = (1, 3)
POOL_ITEMS = 2
HAS_DEFAULTS = 0.3
HAS_BASE = 0.5
HAS_SINGLETON = 0.5
VALUE_RANGE = 100_000
SMALL_RANGE = 100

LIKES = 0
CAPTION = 1
TAGS = 2
REQUEST_CONTAINERS = 5
ITEM_CONTAINERS = 3
HEADER_COUNT = (4, 11)
TAG_BITS = 10
TAG_STRIDE = 16
SAMPLE_DEPTH = 1
CACHE_DEPTH = 3
MODULE_DEPTH = 5
TOUCHED_MODULES = 4


class Function:
    FIELDS = ("name", "code", "defaults", "owner")
    __slots__ = FIELDS + ("__weakref__",)

    def __init__(self, name, code, defaults):
        self.name = name
        self.code = code
        self.defaults = defaults
        self.owner = None


class Class:
    FIELDS = ("name", "methods", "bases")
    __slots__ = FIELDS + ("__weakref__",)

    def __init__(self, name, methods, bases):
        self.name = name
        self.methods = methods
        self.bases = bases


class Singleton:
    FIELDS = ("name", "cls", "state", "settings")
    __slots__ = FIELDS + ("__weakref__",)

    def __init__(self, name, cls, state, settings):
        self.name = name
        self.cls = cls
        self.state = state
        self.settings = settings


class Context:
    FIELDS = ("request", "loaded")
    __slots__ = FIELDS + ("__weakref__",)

    def __init__(self, loaded):
        self.request = None
        self.loaded = loaded


class Request:
    FIELDS = ("path", "headers", "context", "response")
    __slots__ = FIELDS + ("__weakref__",)

    def __init__(self, path, headers, context, response):
        self.path = path
        self.headers = headers
        self.context = context
        self.response = response


class Item:
    FIELDS = ("id", "author", "fields")
    __slots__ = FIELDS + ("__weakref__",)

    def __init__(self, id, author, fields):
        self.id = id
        self.author = author
        self.fields = fields


def configure(size, params):
    config = {
        "long-lived": params.get("long-lived", preset(size, 2000, 30_000, 300_000, 1_000_000)),
        "requests": params.get("requests", preset(size, 40, 1000, 20_000, 100_000)),
        "objects-per-request": params.get("objects-per-request", 300),
        "cycle-fraction": params.get("cycle-fraction", 0.1, float),
        "sample": params.get("sample", 20),
        "cache": params.get("cache", 1000),
        "cache-store": params.get("cache-store", 0.05, float),
        "touch": params.get("touch", False, parse_bool),
        "grow": params.get("grow", 0),
        "prefork": params.get("prefork", False, parse_bool),
    }
    if config["prefork"]:
        config["workers"] = params.get("workers", 2)
        # The harness forks the workers (strategies/src/heap/prefork.rs); the twin serves every
        # request in one process, so its checksum would not be the prefork one.
        raise SystemExit("workload `requests`: parameter `prefork`: the twin does not fork; run prefork in the harness")
    minimum = REQUEST_CONTAINERS + ITEM_CONTAINERS
    if config["objects-per-request"] < minimum:
        raise SystemExit(
            f"workload `requests`: parameter `objects-per-request`: "
            f"a request with one response item makes {minimum} containers"
        )
    for name in ("cycle-fraction", "cache-store"):
        if not 0.0 <= config[name] <= 1.0:
            raise SystemExit(f"workload `requests`: parameter `{name}`: a probability lies in 0..=1")
    if config["grow"] < 0:
        raise SystemExit("workload `requests`: parameter `grow`: out of range (at least 0)")
    if config["sample"] < 0:
        raise SystemExit("workload `requests`: parameter `sample`: out of range (at least 0)")
    if config["cache-store"] > 0.0 and config["cache"] < 1:
        raise SystemExit("workload `requests`: parameter `cache`: storing items needs a cache of at least 1")
    return config


def between(rng, bounds):
    low, high = bounds
    return low + rng.below(high - low + 1)


# ----- startup: the long-lived heap -----------------------------------------------------------


def grow(grower, registry, modules, owed):
    """Builds whole modules into the registry until the containers made since startup cover
    what is owed; returns the module count."""
    while grower.made < owed:
        registry[modules] = grower.module(modules)
        modules += 1
    return modules


def build_long_lived(rng, target):
    startup = Startup(rng)
    registry = startup.dict()
    index = 0
    while True:
        registry[index] = startup.module(index)
        index += 1
        if startup.made >= target:
            return registry, startup.made


class Startup:
    """The long-lived heap under construction, with a count of the containers made so far."""

    __slots__ = ("rng", "made")

    def __init__(self, rng):
        self.rng = rng
        self.made = 0

    def dict(self):
        self.made += 1
        return {}

    def list(self):
        self.made += 1
        return []

    def count(self, container):
        """Counts an instance or tuple the caller has just made."""
        self.made += 1
        return container

    def str(self, prefix):
        return f"{prefix}{self.rng.below(VALUE_RANGE)}"

    def module(self, index):
        rng = self.rng
        module = self.dict()
        module[MODULE_NAME] = f"module{index}"
        module[MODULE_VERSION] = rng.below(VALUE_RANGE)
        config = self.config()
        module[MODULE_CONFIG] = config
        key = FIRST_MEMBER
        for _ in range(between(rng, FUNCTIONS)):
            module[key] = self.function()
            key += 1
        classes = []
        for _ in range(between(rng, CLASSES)):
            cls = self.cls(classes)
            module[key] = cls
            key += 1
            classes.append(cls)
        for cls in classes:
            if rng.chance(HAS_SINGLETON):
                module[key] = self.singleton(cls, config)
                key += 1
        return module

    def config(self):
        rng = self.rng
        config = self.dict()
        for section_key in range(between(rng, CONFIG_SECTIONS)):
            section = self.dict()
            for entry_key in range(between(rng, SECTION_ENTRIES)):
                kind = rng.below(3)
                if kind == 0:
                    value = rng.below(VALUE_RANGE)
                elif kind == 1:
                    value = self.str("value")
                else:
                    value = self.list()
                    for _ in range(between(rng, LIST_ITEMS)):
                        value.append(self.str("host"))
                section[entry_key] = value
            config[section_key] = section
        return config

    def function(self):
        rng = self.rng
        name = self.str("function")
        code = self.str("code")
        if rng.chance(HAS_DEFAULTS):
            default = rng.below(SMALL_RANGE)
            defaults = self.count((default,))
        else:
            defaults = None
        return self.count(Function(name, code, defaults))

    def cls(self, earlier):
        rng = self.rng
        name = self.str("Class")
        methods = self.dict()
        bases = self.list()
        if earlier and rng.chance(HAS_BASE):
            bases.append(earlier[rng.index(len(earlier))])
        cls = self.count(Class(name, methods, bases))
        for key in range(between(rng, METHODS_PER_CLASS)):
            method = self.function()
            method.owner = cls
            methods[key] = method
        return cls

    def singleton(self, cls, config):
        rng = self.rng
        name = self.str("instance")
        pool = self.list()
        for _ in range(POOL_ITEMS):
            pool.append(self.str("connection"))
        state = self.dict()
        state[STATE_COUNTER] = rng.below(VALUE_RANGE)
        state[STATE_POOL] = pool
        settings = config[rng.below(len(config))]
        return self.count(Singleton(name, cls, state, settings))


# ----- requests -------------------------------------------------------------------------------


def serve(config, rng, registry, modules, cache):
    path = f"/feed/{rng.below(VALUE_RANGE)}"
    headers = make_headers(rng)
    loaded = []
    digest = len(path) + len(headers)
    for _ in range(config["sample"]):
        obj = sample_long_lived(rng, registry, modules)
        digest += weigh(obj, SAMPLE_DEPTH)
        loaded.append(obj)
    context = Context(loaded)
    response = []
    request = Request(path, headers, context, response)
    if rng.chance(config["cycle-fraction"]):
        context.request = request
    made = REQUEST_CONTAINERS
    while made < config["objects-per-request"]:
        item, weight = make_item(rng, loaded)
        digest += weight
        response.append(item)
        made += ITEM_CONTAINERS
    if context.request is not None:
        assert context.request is request, "a context's back edge does not lead to its request"
        digest += 1
    if rng.chance(config["cache-store"]):
        item = response[rng.index(len(response))]
        keep_in_cache(cache, config["cache"], item, rng)
    if config["touch"]:
        for _ in range(TOUCHED_MODULES):
            digest += weigh(registry[rng.below(modules)], MODULE_DEPTH)
    return digest


def make_headers(rng):
    headers = {}
    for key in range(between(rng, HEADER_COUNT)):
        headers[key] = f"value{rng.below(VALUE_RANGE)}"
    return headers


def sample_long_lived(rng, registry, modules):
    module = registry[rng.below(modules)]
    return module[rng.below(len(module))]


def make_item(rng, loaded):
    word = rng.next_u64()
    item_id, likes, tag_count = word >> 24, word & 0xFFFF, 1 + ((word >> 16) & 3)
    tag_word = rng.next_u64()
    tags = []
    weight = item_id + likes
    for i in range(tag_count):
        tag = (tag_word >> (i * TAG_STRIDE)) & ((1 << TAG_BITS) - 1)
        weight += tag
        tags.append(tag)
    fields = {}
    fields[LIKES] = likes
    fields[CAPTION] = f"caption {likes}"
    fields[TAGS] = tags
    author = loaded[rng.index(len(loaded))] if loaded else None
    return Item(item_id, author, fields), weight


def keep_in_cache(cache, capacity, item, rng):
    if len(cache) < capacity:
        cache.append(item)
    else:
        cache[rng.index(len(cache))] = item


# ----- reading --------------------------------------------------------------------------------


def weigh(obj, depth):
    if isinstance(obj, int):
        return obj
    if isinstance(obj, str):
        return len(obj)
    if isinstance(obj, dict):
        weight = len(obj)
        if depth > 0:
            for key, value in obj.items():
                weight += key + weigh(value, depth - 1)
        return weight
    if isinstance(obj, (list, tuple)):
        weight = len(obj)
        if depth > 0:
            for item in obj:
                weight += weigh(item, depth - 1)
        return weight
    weight = len(obj.FIELDS)
    if depth > 0:
        for name in obj.FIELDS:
            child = getattr(obj, name)
            if child is not None:
                weight += weigh(child, depth - 1)
    return weight


def run(config, seed, checkpoints):
    rng = SplitMix64(seed)
    checksum = Checksum()
    registry, made = build_long_lived(rng, config["long-lived"])
    modules = len(registry)
    cache = []
    checksum.mix(made)
    checkpoints.startup_done()
    grower = Startup(rng) if config["grow"] else None
    for served in range(1, config["requests"] + 1):
        checksum.mix(serve(config, rng, registry, modules, cache))
        if grower is not None:
            modules = grow(grower, registry, modules, config["grow"] * served)
        checkpoints.request_done()
    checksum.mix(weigh(cache, CACHE_DEPTH))
    for key in range(modules):
        checksum.mix(weigh(registry[key], MODULE_DEPTH))
    return checksum
