//! `requests`: an Instagram-like web server: a big long-lived heap built at startup, then many
//! requests that each allocate a few hundred short-lived objects, a fraction of them left in a
//! cycle.
//!
//! It stands for the Django server of Instagram's "Dismissing Python Garbage Collection at
//! Instagram" (2017): the process imports thousands of modules and loads its configuration before
//! it serves, and CPython's collector then keeps examining that long-lived heap although nearly all
//! garbage is short-lived. It is the program of the Instagram experiment: `generational`
//! (CPython's collector), `manual` with `freeze` at `startup_done` (Instagram's recipe) and
//! `refcount` (collector off) on the same work.
//!
//! **Startup.** A registry dict maps module numbers 0, 1, … to modules. A module is a dict: its
//! name (a str), its version (an int), its configuration tree, then its functions (4–15), its
//! classes (1–4) and a singleton for about half of its classes. A configuration tree is a dict of
//! 2–6 sections, each a dict of 2–7 ints, strs or lists of 1–3 strs. A function is an instance:
//! name, code (a str: CPython does not track code objects), default arguments (a 1-tuple for 30%
//! of functions) and, for a method, its owner. A class is an instance: name, methods (a dict of
//! 2–7 functions), bases (a list; half of the classes after a module's first derive from an
//! earlier one). Each method's owner is a back edge to its class (the `__class__` cell `super()`
//! reads), so the long-lived heap is cyclic as real modules are: pure refcounting leaks it at
//! exit, and the `weakref` strategy holds those edges weakly. A singleton (a logger, a client) is
//! an instance: name, class, state (a dict: a counter and a pool, a list of 2 strs) and settings
//! (a section of its module's configuration, shared).
//!
//! `long-lived` counts the containers (dicts, lists, tuples, instances) the startup makes, the
//! registry included; strs and ints come on top. Whole modules are built until the count reaches
//! it (one module at least), so it is passed by less than one module: 50 containers on average,
//! at most 160. At the default 300,000 that is 5,949 modules beside 448,000 strs and ints, 57 MB
//! of live objects in the model. As in CPython, dicts are untracked until they hold a container,
//! and collections untrack tuples, and full collections dicts, that hold only atoms, so about
//! 258,000 long-lived objects are still tracked at `startup_done`. The cache (below) is made
//! empty right after the modules, before `startup_done`: a freeze there covers the whole
//! long-lived heap.
//!
//! **Requests.** A request makes its path (a str); its headers (a dict of 4–11 strs, which stays
//! untracked); a `loaded` list of `sample` long-lived objects, each a random entry of a random
//! module looked up through the registry (a name, a version, a configuration tree, a function, a
//! class or a singleton) and read; a context instance (request, loaded); a response list; and the
//! request instance (path, headers, context, response). Then response items (posts of a feed)
//! until its containers reach `objects-per-request`: an item is an instance (id, author: one of
//! the loaded objects, fields), its fields a dict (likes, caption, tags), its tags a list of 1–4
//! ints; that is 5 containers plus 3 per item (302 by default: 99 items). With probability
//! `cycle-fraction` the context points back at its request (a back edge to an object the request's
//! own strong references keep alive), so everything the request made is cyclic garbage once it
//! returns; otherwise refcounting frees it all on return. With probability `cache-store` one
//! random item goes into a long-lived cache list (appended up to `cache` items, then in place of a
//! random item, which refcounting frees), so some request objects reach the old generations.
//! Checkpoints: `startup_done` once the long-lived heap is built, `request_done` after every
//! request (which records its latency).
//!
//! **Touch** (`touch=true`): each request also reads `TOUCHED_MODULES` (4) random whole modules,
//! `MODULE_DEPTH` levels deep, through handles: every object read gets a refcount write, so the
//! requests write old pages as a Python program's reads do. With `sample=0` the requests read no
//! long-lived object at all (items then have no author) unless `touch` is on: the two settings of
//! the prefork experiment.
//!
//! **Growth** (`grow=N`, default 0): after each request the server owes N more long-lived
//! containers and builds whole modules into the registry (the startup's code and draws, numbered
//! on) until those made since startup cover them; later requests sample and touch the new
//! modules too. The long-lived heap, cyclic as the startup's, then keeps growing all run, beside
//! the requests' short-lived garbage: mypy's pattern (its ASTs and symbol tables grow while it
//! checks), where CPython 3.14.1–3.14.4 doubled mypy's memory (python/mypy#21403). Not with
//! `prefork`. The long-lived registry and the cache are the program's locals ([`Heap::local`]),
//! as the twin's are.
//!
//! **Prefork** (`prefork=true`, `workers=N`, at most `strategies::MAX_WORKERS`): after
//! `startup_done` (and the strategy's startup action) the cell process forks N workers
//! (`Heap::prefork`); worker i serves the i-th contiguous share of the requests from its own
//! stream (one seed per worker, drawn in worker order from the startup's stream, so no draw
//! depends on the strategy) and leaves inside `Heap::worker_done` with its checksum part; the cell
//! process serves none and mixes the parts in worker order before its final weighing. The
//! checksum is thus the same under every strategy for a given worker count, and differs from the
//! single-process one. The Python twin refuses `prefork=true`.
//!
//! **What it stresses.** Under `generational`, gen-0 collections come from the cyclic requests
//! (about 30 containers of cyclic garbage per request by default, one gen-0 collection every 22
//! requests or so) on top of each request's transient peak; after startup full collections are
//! rare (the long-lived-pending rule, against 258,000 tracked objects) but each walks the whole
//! heap. `manual` with freeze takes the long-lived heap out of every collection; with no
//! collections the cyclic requests pile up (about 600,000 containers by default). `refcount`
//! leaks them; `weakref` frees them by refcounting.
//!
//! **Checksum.** The containers the startup made; per request, its path and header lengths, the
//! weights of its sampled objects, each item's id, likes and tags, and whether its back edge led
//! back; at the end the weight of the cache (3 levels deep) and of every module (5 levels, down to
//! its methods' default arguments). An object's weight is an int's value, a str's length, or a
//! container's length plus, `depth` levels down, its items' weights (and a dict's keys), modulo
//! 2^64.
//!
//! **Against CPython 3.11** (the twin under `python3` with GC on, `--size default`, beside this
//! workload under `generational`), collections and objects collected per generation:
//!
//! ```text
//!                        gen 0                   gen 1                 gen 2
//!   seed 1   CPython   1243   513,555          112   73,405           3   0
//!            model     1287   511,159          116   75,500           3   0
//!            ratio     1.035  0.995            1.036 1.029            1   -
//!   seed 2   CPython   1283   537,617          116   75,816           3   0
//!            model     1327   539,423          120   74,010           3   0
//!            ratio     1.034  1.003            1.034 0.976            1   -
//! ```
//!
//! Those figures predate the model of CPython's free lists: the model then ran 3–4% more
//! collections by default and 12% more with `cycle-fraction = 0.3` (3047 against 2711 gen-0
//! collections). CPython 3.11 keeps up to 80 freed dicts and 80 freed lists and hands them out
//! again without counting an allocation, nor a deallocation when they go back; with the twin's
//! request dicts and lists made from subclasses (which bypass the free lists) CPython ran exactly
//! the model's collections. The heap now models those free lists in the gen-0 count
//! (`heap/collector.rs`, `FreeLists`), and both sides agree exactly (at `small` size with
//! `cycle-fraction = 0.3`: 154/14/1 collections and 68,288/20,456/1,204 objects collected on both).

use strategies::params::Defaults::{BySize, Fixed};
use strategies::params::{Flag, Float, Int, Param, ParamError, Reader};
use strategies::{Handle, Heap, Kind, Local, MAX_WORKERS, Share};

use crate::rng::SplitMix64;
use crate::{Checksum, Workload, WorkloadInfo};

pub(crate) const INFO: WorkloadInfo = WorkloadInfo {
    name: "requests",
    summary: "an Instagram-like server: a big long-lived heap of modules, then requests of short-lived objects",
    params: &[
        &LONG_LIVED,
        &REQUESTS,
        &OBJECTS_PER_REQUEST,
        &CYCLE_FRACTION,
        &SAMPLE,
        &CACHE,
        &CACHE_STORE,
        &TOUCH,
        &GROW,
        &PREFORK,
        &WORKERS,
    ],
    build,
};

const LONG_LIVED: Param<Int<u64>> = Param::new(
    "long-lived",
    Int::at_least(0),
    BySize([2000, 30_000, 300_000, 1_000_000]),
    "containers in the long-lived heap (whole modules are built until it is reached)",
);
const REQUESTS: Param<Int<u64>> =
    Param::new("requests", Int::at_least(0), BySize([40, 1000, 20_000, 100_000]), "requests served");
/// A request with one response item makes `REQUEST_CONTAINERS + ITEM_CONTAINERS` containers.
const OBJECTS_PER_REQUEST: Param<Int<u64>> = Param::new(
    "objects-per-request",
    Int::at_least(REQUEST_CONTAINERS + ITEM_CONTAINERS),
    Fixed(300),
    "short-lived containers each request allocates",
);
const CYCLE_FRACTION: Param<Float> = Param::new(
    "cycle-fraction",
    Float::PROBABILITY,
    Fixed(0.1),
    "probability that a request's objects are left behind in a cycle",
);
const SAMPLE: Param<Int<u64>> = Param::new(
    "sample",
    Int::at_least(0),
    Fixed(20),
    "long-lived objects each request reads and refers to (0: requests leave the long-lived heap alone)",
);
const CACHE: Param<Int<u64>> = Param::new(
    "cache",
    Int::at_least(0),
    Fixed(1000),
    "response items the long-lived cache holds (at least 1 if items are stored)",
);
const CACHE_STORE: Param<Float> = Param::new(
    "cache-store",
    Float::PROBABILITY,
    Fixed(0.05),
    "probability that a request stores one of its response items in the cache",
);
const TOUCH: Param<Flag> = Param::new(
    "touch",
    Flag,
    Fixed(false),
    "each request also reads 4 random whole modules (5 levels deep), writing old objects' refcounts",
);
const GROW: Param<Int<u64>> = Param::new(
    "grow",
    Int::at_least(0),
    Fixed(0),
    "long-lived containers added per request: whole modules joined to the registry all run long (a mypy-like growing heap)",
);
const PREFORK: Param<Flag> = Param::new(
    "prefork",
    Flag,
    Fixed(false),
    "fork `workers` workers after startup_done; each serves its share of the requests (cow.csv)",
);
const WORKERS: Param<Int<u64>> = Param::new(
    "workers",
    Int::new(1, MAX_WORKERS as u64),
    Fixed(2),
    "prefork: worker processes forked after startup_done",
)
.only_when("prefork", "true");

/// Slot 0 of every long-lived instance: its name, a str.
const NAME: usize = 0;
/// A function: its name, its code (a str: CPython does not track code objects), its default
/// arguments (a tuple or nothing) and, for a method, the class that owns it (the `__class__`
/// cell `super()` reads, a back edge).
const CODE: usize = 1;
const DEFAULTS: usize = 2;
const OWNER: usize = 3;
const FUNCTION_SLOTS: usize = 4;
/// A class: its name, its methods (a dict) and its bases (a list of earlier classes).
const METHODS: usize = 1;
const BASES: usize = 2;
const CLASS_SLOTS: usize = 3;
/// A singleton (a module-level instance such as a logger or a client): its name, its class, its
/// state (a dict) and its settings (a section of the module's configuration tree).
const CLASS: usize = 1;
const STATE: usize = 2;
const SETTINGS: usize = 3;
const SINGLETON_SLOTS: usize = 4;

/// Keys of a module dict: its name, its version and its configuration tree; its functions,
/// classes and singletons follow from `FIRST_MEMBER` on.
const MODULE_NAME: u64 = 0;
const MODULE_VERSION: u64 = 1;
const MODULE_CONFIG: u64 = 2;
const FIRST_MEMBER: u64 = 3;
/// Keys of a singleton's state dict: a counter and a pool (a list of strs).
const STATE_COUNTER: u64 = 0;
const STATE_POOL: u64 = 1;

/// How many of each thing a module has, drawn uniformly from these inclusive ranges.
const FUNCTIONS: (u64, u64) = (4, 15);
const CLASSES: (u64, u64) = (1, 4);
const METHODS_PER_CLASS: (u64, u64) = (2, 7);
const CONFIG_SECTIONS: (u64, u64) = (2, 6);
const SECTION_ENTRIES: (u64, u64) = (2, 7);
const LIST_ITEMS: (u64, u64) = (1, 3);
const POOL_ITEMS: u64 = 2;
/// Probabilities: a function has default arguments, a class has a base, a class has a singleton.
const HAS_DEFAULTS: f64 = 0.3;
const HAS_BASE: f64 = 0.5;
const HAS_SINGLETON: f64 = 0.5;
/// Ints are drawn below `VALUE_RANGE`, mostly past the small-int cache, so each is an object;
/// default arguments below `SMALL_RANGE`, from the cache, as they mostly are.
const VALUE_RANGE: u64 = 100_000;
const SMALL_RANGE: u64 = 100;

/// A request: its path (a str), its headers (a dict of strs), its context and its response.
const PATH: usize = 0;
const HEADERS: usize = 1;
const CONTEXT: usize = 2;
const RESPONSE: usize = 3;
const REQUEST_SLOTS: usize = 4;
/// A request's context: the request (a back edge, set in a `cycle-fraction` of requests) and the
/// long-lived objects the request loaded (a list).
const REQUEST: usize = 0;
const LOADED: usize = 1;
const CONTEXT_SLOTS: usize = 2;
/// A response item (a post in a feed): its id, its author (a loaded long-lived object) and its
/// fields (a dict: likes, caption, tags).
const ID: usize = 0;
const AUTHOR: usize = 1;
const FIELDS: usize = 2;
const ITEM_SLOTS: usize = 3;
const LIKES: u64 = 0;
const CAPTION: u64 = 1;
const TAGS: u64 = 2;
/// Containers every request makes besides its items: headers, loaded list, context, response
/// list, request.
const REQUEST_CONTAINERS: u64 = 5;
/// Containers per response item: tags list, fields dict, item.
const ITEM_CONTAINERS: u64 = 3;
const HEADER_COUNT: (u64, u64) = (4, 11);
/// An item's 1 to 4 tags are 10-bit values taken every 16 bits of one draw.
const TAG_BITS: u32 = 10;
const TAG_STRIDE: u32 = 16;
/// How deep the checksum walks reach: a sampled object and its items; a cached item down to its
/// tags and its author's items; a module down to its methods' default arguments.
const SAMPLE_DEPTH: u32 = 1;
const CACHE_DEPTH: u32 = 3;
const MODULE_DEPTH: u32 = 5;
/// Whole modules a request reads with `touch` on, each `MODULE_DEPTH` levels deep.
const TOUCHED_MODULES: u64 = 4;

#[derive(Debug)]
struct Requests {
    seed: u64,
    long_lived: u64,
    requests: u64,
    objects_per_request: u64,
    cycle_fraction: f64,
    sample: u64,
    cache: u64,
    cache_store: f64,
    touch: bool,
    /// Long-lived containers owed per request served (whole modules, as at startup).
    grow: u64,
    /// Prefork workers (`None`: the requests are served in this process).
    workers: Option<usize>,
}

fn build(p: &mut Reader, seed: u64) -> Result<Box<dyn Workload>, ParamError> {
    let workload = Requests {
        seed,
        long_lived: p.get(&LONG_LIVED)?,
        requests: p.get(&REQUESTS)?,
        objects_per_request: p.get(&OBJECTS_PER_REQUEST)?,
        cycle_fraction: p.get(&CYCLE_FRACTION)?,
        sample: p.get(&SAMPLE)?,
        cache: p.get(&CACHE)?,
        cache_store: p.get(&CACHE_STORE)?,
        touch: p.get(&TOUCH)?,
        grow: p.get(&GROW)?,
        workers: if p.get(&PREFORK)? { Some(p.get(&WORKERS)? as usize) } else { None },
    };
    if workload.grow > 0 && workload.workers.is_some() {
        return Err(p.invalid(&GROW, workload.grow, "the heap grows in one process: not with prefork"));
    }
    if workload.cache_store > 0.0 && workload.cache == 0 {
        return Err(p.invalid(&CACHE, 0, "storing items needs a cache of at least 1"));
    }
    Ok(Box::new(workload))
}

impl Workload for Requests {
    fn run(&self, heap: &Heap) -> Checksum {
        let mut rng = SplitMix64::new(self.seed);
        let mut checksum = Checksum::new();
        let (registry, made) = build_long_lived(heap, &mut rng, self.long_lived);
        let modules = heap.len(&registry) as u64;
        let cache = heap.local(heap.list());
        checksum.mix(made);
        heap.startup_done();
        let mut server = Server { heap, registry: &registry, modules, cache: &cache };
        match self.workers {
            None => {
                let mut grown = 0;
                for served in 1..=self.requests {
                    checksum.mix(self.serve(&server, &mut rng));
                    grown = self.grow(&mut server, &mut rng, served, grown);
                    heap.request_done();
                }
            }
            Some(workers) => {
                for part in self.prefork(&server, &mut rng, workers) {
                    checksum.mix(part);
                }
            }
        }
        checksum.mix(weigh(heap, &cache, CACHE_DEPTH));
        for key in 0..server.modules {
            let module = heap.dict_get(&registry, key).expect("modules are numbered from 0");
            checksum.mix(weigh(heap, &module, MODULE_DEPTH));
        }
        checksum
    }
}

impl Requests {
    /// After `served` requests `grow` × `served` long-lived containers are owed: builds whole
    /// modules into the registry, with the startup's code, until the containers `made` since
    /// startup cover that. Returns the new count made.
    fn grow(&self, server: &mut Server<'_, '_>, rng: &mut SplitMix64, served: u64, made: u64) -> u64 {
        let owed = self.grow * served;
        let mut startup = Startup { heap: server.heap, rng, made };
        while startup.made < owed {
            let module = startup.module(server.modules);
            server.heap.dict_set(server.registry, server.modules, &module);
            server.modules += 1;
        }
        startup.made
    }

    /// Forks `workers` workers (`Heap::prefork`); each serves its contiguous share of the
    /// requests from its own stream, one seed drawn per worker from the startup's stream, and
    /// leaves inside `worker_done`. Returns, in the cell process, the workers' checksum parts in
    /// worker order: the same under every strategy for a given worker count.
    fn prefork(&self, server: &Server<'_, '_>, rng: &mut SplitMix64, workers: usize) -> Vec<u64> {
        let seeds: Vec<u64> = (0..workers).map(|_| rng.next_u64()).collect();
        match server.heap.prefork(workers, self.requests) {
            Share::Worker { index, requests } => {
                let mut rng = SplitMix64::new(seeds[index]);
                let mut part = Checksum::new();
                for _ in requests {
                    part.mix(self.serve(server, &mut rng));
                    server.heap.request_done();
                }
                server.heap.worker_done(part.0)
            }
            Share::Parent { checksums } => checksums,
        }
    }
}

/// What serving a request reads and writes: the long-lived registry and the cache.
struct Server<'h, 'a> {
    heap: &'h Heap,
    registry: &'a Handle<'h>,
    modules: u64,
    cache: &'a Handle<'h>,
}

/// A draw from an inclusive range.
fn between(rng: &mut SplitMix64, (low, high): (u64, u64)) -> u64 {
    low + rng.below(high - low + 1)
}

fn int(heap: &Heap, value: u64) -> Handle<'_> {
    heap.int(value as i64)
}

// ----- startup: the long-lived heap ------------------------------------------------------

/// Builds modules into a registry (a dict keyed by module number) until the containers made
/// reach `target` (at least one module); returns the registry, a local of the program as the
/// twin's is, and the containers made.
fn build_long_lived<'h>(heap: &'h Heap, rng: &mut SplitMix64, target: u64) -> (Local<'h>, u64) {
    let mut startup = Startup { heap, rng, made: 0 };
    let registry = heap.local(startup.dict());
    let mut index = 0;
    loop {
        let module = startup.module(index);
        heap.dict_set(&registry, index, &module);
        index += 1;
        if startup.made >= target {
            return (registry, startup.made);
        }
    }
}

/// The long-lived heap under construction, with a count of the containers made so far.
struct Startup<'h, 'r> {
    heap: &'h Heap,
    rng: &'r mut SplitMix64,
    made: u64,
}

impl<'h> Startup<'h, '_> {
    fn dict(&mut self) -> Handle<'h> {
        self.made += 1;
        self.heap.dict()
    }

    fn list(&mut self) -> Handle<'h> {
        self.made += 1;
        self.heap.list()
    }

    fn instance(&mut self, nslots: usize) -> Handle<'h> {
        self.made += 1;
        self.heap.instance(nslots)
    }

    fn tuple(&mut self, items: &[Option<&Handle<'_>>]) -> Handle<'h> {
        self.made += 1;
        self.heap.tuple(items)
    }

    fn str(&mut self, prefix: &str) -> Handle<'h> {
        self.heap.str(&format!("{prefix}{}", self.rng.below(VALUE_RANGE)))
    }

    /// A module: a dict of its name, version and configuration, then its functions, its
    /// classes (with their methods) and a singleton for about half of the classes.
    fn module(&mut self, index: u64) -> Handle<'h> {
        let heap = self.heap;
        let module = self.dict();
        heap.dict_set(&module, MODULE_NAME, &heap.str(&format!("module{index}")));
        heap.dict_set(&module, MODULE_VERSION, &int(heap, self.rng.below(VALUE_RANGE)));
        let config = self.config();
        heap.dict_set(&module, MODULE_CONFIG, &config);
        let mut key = FIRST_MEMBER;
        for _ in 0..between(self.rng, FUNCTIONS) {
            heap.dict_set(&module, key, &self.function());
            key += 1;
        }
        let mut classes: Vec<Handle<'h>> = Vec::new();
        for _ in 0..between(self.rng, CLASSES) {
            let class = self.class(&classes);
            heap.dict_set(&module, key, &class);
            key += 1;
            classes.push(class);
        }
        for class in &classes {
            if self.rng.chance(HAS_SINGLETON) {
                heap.dict_set(&module, key, &self.singleton(class, &config));
                key += 1;
            }
        }
        module
    }

    /// A configuration tree: a dict of sections, each a dict of ints, strs and lists of strs.
    fn config(&mut self) -> Handle<'h> {
        let heap = self.heap;
        let config = self.dict();
        for section_key in 0..between(self.rng, CONFIG_SECTIONS) {
            let section = self.dict();
            for entry_key in 0..between(self.rng, SECTION_ENTRIES) {
                let value = match self.rng.below(3) {
                    0 => int(heap, self.rng.below(VALUE_RANGE)),
                    1 => self.str("value"),
                    _ => {
                        let list = self.list();
                        for _ in 0..between(self.rng, LIST_ITEMS) {
                            heap.list_append(&list, &self.str("host"));
                        }
                        list
                    }
                };
                heap.dict_set(&section, entry_key, &value);
            }
            heap.dict_set(&config, section_key, &section);
        }
        config
    }

    /// A function: name, code and, sometimes, default arguments.
    fn function(&mut self) -> Handle<'h> {
        let heap = self.heap;
        let name = self.str("function");
        let code = self.str("code");
        let defaults = if self.rng.chance(HAS_DEFAULTS) {
            let default = int(heap, self.rng.below(SMALL_RANGE));
            Some(self.tuple(&[Some(&default)]))
        } else {
            None
        };
        let function = self.instance(FUNCTION_SLOTS);
        heap.set(&function, NAME, Some(&name));
        heap.set(&function, CODE, Some(&code));
        heap.set(&function, DEFAULTS, defaults.as_ref());
        function
    }

    /// A class with its methods, each pointing back at it; half of the classes after the first
    /// derive from an earlier one.
    fn class(&mut self, earlier: &[Handle<'h>]) -> Handle<'h> {
        let heap = self.heap;
        let name = self.str("Class");
        let methods = self.dict();
        let bases = self.list();
        if !earlier.is_empty() && self.rng.chance(HAS_BASE) {
            heap.list_append(&bases, &earlier[self.rng.index(earlier.len())]);
        }
        let class = self.instance(CLASS_SLOTS);
        heap.set(&class, NAME, Some(&name));
        heap.set(&class, METHODS, Some(&methods));
        heap.set(&class, BASES, Some(&bases));
        for key in 0..between(self.rng, METHODS_PER_CLASS) {
            let method = self.function();
            heap.set_back_edge(&method, OWNER, &class);
            heap.dict_set(&methods, key, &method);
        }
        class
    }

    /// A module-level instance of `class`, with a counter, a pool and a configuration section.
    fn singleton(&mut self, class: &Handle<'h>, config: &Handle<'h>) -> Handle<'h> {
        let heap = self.heap;
        let name = self.str("instance");
        let pool = self.list();
        for _ in 0..POOL_ITEMS {
            heap.list_append(&pool, &self.str("connection"));
        }
        let state = self.dict();
        heap.dict_set(&state, STATE_COUNTER, &int(heap, self.rng.below(VALUE_RANGE)));
        heap.dict_set(&state, STATE_POOL, &pool);
        let sections = heap.len(config);
        let settings = heap.dict_get(config, self.rng.below(sections as u64)).expect("sections are numbered from 0");
        let singleton = self.instance(SINGLETON_SLOTS);
        heap.set(&singleton, NAME, Some(&name));
        heap.set(&singleton, CLASS, Some(class));
        heap.set(&singleton, STATE, Some(&state));
        heap.set(&singleton, SETTINGS, Some(&settings));
        singleton
    }
}

// ----- requests ----------------------------------------------------------------------------

impl Requests {
    /// Serves one request; returns its digest. Everything it made is dropped on return, except
    /// an item stored in the cache and, for a cyclic request, the cycle awaiting a collector.
    fn serve(&self, server: &Server<'_, '_>, rng: &mut SplitMix64) -> u64 {
        let Server { heap, registry, modules, cache } = *server;
        let path = heap.str(&format!("/feed/{}", rng.below(VALUE_RANGE)));
        let headers = make_headers(heap, rng);
        let loaded = heap.list();
        let mut digest = heap.len(&path) as u64 + heap.len(&headers) as u64;
        for _ in 0..self.sample {
            let object = sample_long_lived(heap, rng, registry, modules);
            digest = digest.wrapping_add(weigh(heap, &object, SAMPLE_DEPTH));
            heap.list_append(&loaded, &object);
        }
        let context = heap.instance(CONTEXT_SLOTS);
        heap.set(&context, LOADED, Some(&loaded));
        let response = heap.list();
        let request = heap.instance(REQUEST_SLOTS);
        heap.set(&request, PATH, Some(&path));
        heap.set(&request, HEADERS, Some(&headers));
        heap.set(&request, CONTEXT, Some(&context));
        heap.set(&request, RESPONSE, Some(&response));
        if rng.chance(self.cycle_fraction) {
            heap.set_back_edge(&context, REQUEST, &request);
        }
        let mut made = REQUEST_CONTAINERS;
        while made < self.objects_per_request {
            let (item, weight) = make_item(heap, rng, &loaded);
            digest = digest.wrapping_add(weight);
            heap.list_append(&response, &item);
            made += ITEM_CONTAINERS;
        }
        if let Some(back) = heap.get(&context, REQUEST) {
            assert!(back == request, "a context's back edge does not lead to its request");
            digest = digest.wrapping_add(1);
        }
        if rng.chance(self.cache_store) {
            let item = heap.get(&response, rng.index(heap.len(&response))).expect("a response has items");
            keep_in_cache(heap, cache, self.cache, item, rng);
        }
        if self.touch {
            for _ in 0..TOUCHED_MODULES {
                let module = heap.dict_get(registry, rng.below(modules)).expect("modules are numbered from 0");
                digest = digest.wrapping_add(weigh(heap, &module, MODULE_DEPTH));
            }
        }
        digest
    }
}

/// Request headers: a dict of strs (which stays untracked, as in CPython).
fn make_headers<'h>(heap: &'h Heap, rng: &mut SplitMix64) -> Handle<'h> {
    let headers = heap.dict();
    for key in 0..between(rng, HEADER_COUNT) {
        heap.dict_set(&headers, key, &heap.str(&format!("value{}", rng.below(VALUE_RANGE))));
    }
    headers
}

/// A random long-lived object, looked up through the registry: a random entry of a random
/// module (its name, version, configuration, a function, a class or a singleton).
fn sample_long_lived<'h>(heap: &'h Heap, rng: &mut SplitMix64, registry: &Handle<'h>, modules: u64) -> Handle<'h> {
    let module = heap.dict_get(registry, rng.below(modules)).expect("modules are numbered from 0");
    let entries = heap.len(&module) as u64;
    heap.dict_get(&module, rng.below(entries)).expect("module entries are numbered from 0")
}

/// A response item; returns it and its weight (id, likes and tags). One draw gives the id, the
/// likes and the number of tags, a second the tags (10-bit fields), a third the author (none,
/// and no draw, when the request read no long-lived object: `sample=0`).
fn make_item<'h>(heap: &'h Heap, rng: &mut SplitMix64, loaded: &Handle<'h>) -> (Handle<'h>, u64) {
    let word = rng.next_u64();
    let (id, likes, tag_count) = (word >> 24, word & 0xffff, 1 + ((word >> 16) & 3));
    let tag_word = rng.next_u64();
    let tags = heap.list();
    let mut weight = id + likes;
    for i in 0..tag_count as u32 {
        let tag = (tag_word >> (i * TAG_STRIDE)) & ((1 << TAG_BITS) - 1);
        weight += tag;
        heap.list_append(&tags, &int(heap, tag));
    }
    let fields = heap.dict();
    heap.dict_set(&fields, LIKES, &int(heap, likes));
    heap.dict_set(&fields, CAPTION, &heap.str(&format!("caption {likes}")));
    heap.dict_set(&fields, TAGS, &tags);
    let loaded_count = heap.len(loaded);
    let author = (loaded_count > 0).then(|| heap.get(loaded, rng.index(loaded_count)).expect("loaded objects are set"));
    let item = heap.instance(ITEM_SLOTS);
    heap.set(&item, ID, Some(&int(heap, id)));
    heap.set(&item, AUTHOR, author.as_ref());
    heap.set(&item, FIELDS, Some(&fields));
    (item, weight)
}

/// Puts an item into the cache: appended while the cache is not full, then in place of a random
/// item, which becomes garbage (old garbage, by then).
fn keep_in_cache<'h>(heap: &'h Heap, cache: &Handle<'h>, capacity: u64, item: Handle<'h>, rng: &mut SplitMix64) {
    let len = heap.len(cache);
    if (len as u64) < capacity {
        heap.list_append(cache, &item);
    } else {
        heap.set(cache, rng.index(len), Some(&item));
    }
}

// ----- reading -----------------------------------------------------------------------------

/// What reading an object yields: an int's value, a str's length; a container's length plus,
/// `depth` levels down, the weights of its items (and a dict's keys). Back edges are followed
/// like other edges; `depth` bounds the walk.
fn weigh(heap: &Heap, object: &Handle<'_>, depth: u32) -> u64 {
    match heap.kind(object) {
        Kind::Int => heap.int_value(object) as u64,
        Kind::Str => heap.len(object) as u64,
        Kind::Dict => {
            let mut weight = heap.len(object) as u64;
            if depth > 0 {
                for key in heap.dict_keys(object) {
                    let value = heap.dict_get(object, key).expect("a key just listed");
                    weight = weight.wrapping_add(key).wrapping_add(weigh(heap, &value, depth - 1));
                }
            }
            weight
        }
        Kind::Tuple | Kind::List | Kind::Instance => {
            let len = heap.len(object);
            let mut weight = len as u64;
            if depth > 0 {
                for index in 0..len {
                    if let Some(item) = heap.get(object, index) {
                        weight = weight.wrapping_add(weigh(heap, &item, depth - 1));
                    }
                }
            }
            weight
        }
        Kind::Weakref => unreachable!("the workload makes no weakrefs"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WorkloadArgs;
    use crate::testing::{heap, refusal, smoke};
    use strategies::FinalReport;

    fn args(pairs: &[(&str, &str)]) -> WorkloadArgs {
        smoke(11, pairs)
    }

    /// Runs at smoke size; returns the report, the collections and the objects they found.
    fn run(strategy: &str, pairs: &[(&str, &str)]) -> (FinalReport, u64, u64) {
        let heap = heap(strategy);
        INFO.build(&args(pairs)).unwrap().run(&heap);
        let stats = heap.gc_stats();
        let (collections, collected) =
            (stats.iter().map(|g| g.collections).sum(), stats.iter().map(|g| g.collected).sum());
        (heap.finish(), collections, collected)
    }

    fn containers(report: &FinalReport) -> u64 {
        report.leaked.by_kind.iter().filter(|(kind, _)| kind.is_container()).map(|(_, (objects, _))| objects).sum()
    }

    #[test]
    fn startup_counts_every_container_it_makes_and_stops_within_a_module() {
        let largest_module = 1
            + (1 + CONFIG_SECTIONS.1 * (1 + SECTION_ENTRIES.1))
            + FUNCTIONS.1 * 2
            + CLASSES.1 * (3 + METHODS_PER_CLASS.1 * 2)
            + CLASSES.1 * 3;
        for target in [1, 5000] {
            // Under pure refcounting nothing is collected, and the startup frees nothing, so the
            // gen-0 count is every container allocated.
            let heap = heap("refcount");
            let (registry, made) = build_long_lived(&heap, &mut SplitMix64::new(3), target);
            assert_eq!(heap.gc_counts()[0], made);
            assert!(made >= target && made < target + largest_module, "target {target}: made {made}");
            drop(registry);
        }
    }

    #[test]
    fn without_the_cycle_fraction_requests_leave_no_cyclic_garbage() {
        let (_, collections, collected) = run("generational", &[("cycle-fraction", "0"), ("requests", "200")]);
        assert!(collections > 0);
        assert_eq!(collected, 0);
        let (_, _, collected) = run("generational", &[("cycle-fraction", "1"), ("requests", "200")]);
        assert!(collected > 0);
    }

    #[test]
    fn a_cyclic_request_leaks_everything_it_made_under_refcounting() {
        let (requests, per_request) = (40, 50);
        let pairs = |fraction| {
            [("cycle-fraction", fraction), ("requests", "40"), ("objects-per-request", "50"), ("cache-store", "0")]
        };
        let (acyclic, ..) = run("refcount", &pairs("0"));
        let (cyclic, ..) = run("refcount", &pairs("1"));
        let made = REQUEST_CONTAINERS + ITEM_CONTAINERS * (per_request - REQUEST_CONTAINERS).div_ceil(ITEM_CONTAINERS);
        // The long-lived heap's class/method cycles leak in both runs; a leaked request also keeps
        // the long-lived objects it refers to.
        assert!(containers(&cyclic) >= containers(&acyclic) + requests * made);
    }

    #[test]
    fn prefork_checksums_agree_under_every_strategy_for_a_worker_count() {
        let checksum = |strategy: &str, workers: &str| {
            let heap = heap(strategy);
            let pairs = [("prefork", "true"), ("workers", workers), ("touch", "true"), ("requests", "30")];
            let checksum = INFO.build(&args(&pairs)).unwrap().run(&heap);
            heap.exit_if_worker();
            let reports = heap.worker_reports();
            assert_eq!(reports.len(), workers.parse::<usize>().unwrap());
            assert_eq!(reports.iter().map(|r| r.request_latencies_ns.len()).sum::<usize>(), 30);
            heap.finish();
            checksum
        };
        let two = checksum("refcount", "2");
        assert_eq!(checksum("generational", "2"), two);
        assert_eq!(checksum("manual", "2"), two);
        assert_ne!(checksum("refcount", "3"), two, "the shares differ, so do the requests");
    }

    #[test]
    fn impossible_parameters_are_refused() {
        let error = |pairs: &[(&str, &str)]| refusal(&INFO, pairs);
        assert!(error(&[("objects-per-request", "7")]).ends_with("out of range (at least 8)"));
        assert!(error(&[("cycle-fraction", "1.5")]).ends_with("out of range (max 1)"));
        assert!(error(&[("cache-store", "-0.1")]).ends_with("out of range (at least 0)"));
        assert!(error(&[("cache", "0")]).contains("cache of at least 1"));
        assert!(INFO.build(&args(&[("cache", "0"), ("cache-store", "0")])).is_ok());
    }
}
