"""Twin of ``workloads/src/churn.rs``: random graph mutation (create, link, unlink, drop), with
Zipf sizes and Poisson degrees drawn exactly as ``rand_distr`` 0.6 draws them."""

import math

from common import Checksum, SplitMix64, preset

VALUE_RANGE = 1000
VALUE = 0
MAX_SIZE_LIMIT = 1000
MAX_POISSON_MEAN = 12.0

# What an edge slot holds, seen from a walk's path; also an operation's outcome.
EMPTY, HELD_VALUE, CHILD, BACK_EDGE = range(4)
MISS = 4

CREATE, LINK, UNLINK, DROP = range(4)

_NODE_CLASSES = {}


def node_class(edges):
    """The class of instances with ``edges`` edge slots: ``__slots__`` ``value, e1 .. e<edges>``
    and ``__weakref__``; ``NAMES[position]`` names slot ``position``."""
    if edges not in _NODE_CLASSES:
        edge_names = tuple(f"e{i}" for i in range(1, edges + 1))
        names = ("value",) + edge_names

        def __init__(self, value):
            self.value = value
            for name in edge_names:
                setattr(self, name, None)

        namespace = {"__slots__": names + ("__weakref__",), "__init__": __init__, "NAMES": names}
        _NODE_CLASSES[edges] = type(f"Node{edges}", (), namespace)
    return _NODE_CLASSES[edges]


class Zipf:
    """``rand_distr::Zipf::new(n, s)`` and its ``sample`` (rand_distr 0.6), operation for
    operation; ``unit()`` is what ``rand`` draws for ``StandardUniform``."""

    __slots__ = ("s", "t", "q")

    def __init__(self, n, s):
        self.s = s
        self.q = 1.0 / (1.0 - s) if s != 1.0 else 0.0
        self.t = (math.pow(n, 1.0 - s) - s) * self.q if s != 1.0 else 1.0 + math.log(n)

    def inv_cdf(self, p):
        pt = p * self.t
        if pt <= 1.0:
            return pt
        if self.s != 1.0:
            return math.pow(pt * (1.0 - self.s) + self.s, self.q)
        return math.exp(pt - 1.0)

    def sample(self, rng):
        while True:
            inv_b = self.inv_cdf(rng.unit())
            x = float(math.floor(inv_b + 1.0))
            ratio = math.pow(x, -self.s)
            if x > 1.0:
                ratio = ratio * math.pow(inv_b, self.s)
            if rng.unit() < ratio:
                return x


class Poisson:
    """``rand_distr::Poisson::new(mean)`` and its ``sample`` (rand_distr 0.6) for a mean below
    12, where it is Knuth's method."""

    __slots__ = ("exp_lambda",)

    def __init__(self, mean):
        assert 0.0 < mean < MAX_POISSON_MEAN, "rand_distr samples other means differently"
        self.exp_lambda = math.exp(-mean)

    def sample(self, rng):
        result = 1.0
        p = rng.unit()
        while p > self.exp_lambda:
            p = p * rng.unit()
            result = result + 1.0
        return result - 1.0


def parse_mix(text):
    expected = "expected four non-negative integer weights create:link:unlink:drop"
    try:
        weights = [int(w) for w in text.split(":")]
    except ValueError:
        raise ValueError(expected)
    if len(weights) != 4 or min(weights) < 0:
        raise ValueError(expected)
    if max(weights) == 0:
        raise ValueError("at least one weight must be positive")
    return text


def refuse(name, value, reason):
    raise SystemExit(f"workload `churn`: parameter `{name}` = `{value}`: {reason}")


def configure(size, params):
    config = {
        "operations": params.get("operations", preset(size, 10_000, 100_000, 1_000_000, 10_000_000)),
        "initial": params.get("initial", preset(size, 200, 2_000, 20_000, 200_000)),
        "roots": params.get("roots", preset(size, 20, 200, 2_000, 20_000)),
        "max-size": params.get("max-size", 8),
        "size-exponent": params.get("size-exponent", 1.2, float),
        "list-fraction": params.get("list-fraction", 0.25, float),
        "degree-mean": params.get("degree-mean", 0.5, float),
        "descend": params.get("descend", 0.8, float),
        "mix": params.get("mix", "50:20:20:10", parse_mix),
        "request-ops": params.get("request-ops", 100),
    }
    if config["roots"] < 1:
        refuse("roots", config["roots"], "the graph needs at least 1 root slot")
    if not 1 <= config["max-size"] <= MAX_SIZE_LIMIT:
        refuse("max-size", config["max-size"], f"sizes lie in 1..={MAX_SIZE_LIMIT}")
    if not (math.isfinite(config["size-exponent"]) and config["size-exponent"] >= 0.0):
        refuse("size-exponent", config["size-exponent"], "a Zipf exponent is finite and >= 0")
    for name in ("list-fraction", "descend"):
        if not 0.0 <= config[name] <= 1.0:
            refuse(name, config[name], "a probability lies in 0..=1")
    if not 0.0 <= config["degree-mean"] < MAX_POISSON_MEAN:
        refuse("degree-mean", config["degree-mean"], "lies in 0..12 (rand_distr samples larger means differently)")
    if config["request-ops"] < 1:
        refuse("request-ops", config["request-ops"], "a request holds at least 1 operation")
    # The classes are made here, before the measured run, as Rust's instances need none.
    for edges in range(1, config["max-size"] + 1):
        node_class(edges)
    return config


class Path:
    """Where a walk stopped: the root slot it started from, the nodes from that root down to the
    holder, and the position of each node in the one above. One is reused for every operation
    (the Rust side's is a Vec, not a heap object) and emptied when the operation ends."""

    __slots__ = ("root", "nodes", "positions")

    def __init__(self):
        self.root = 0
        self.nodes = []
        self.positions = []

    def clear(self):
        del self.nodes[:]
        del self.positions[:]


class Run:
    """One run's state: the generator, the distributions, the roots and the checksum."""

    def __init__(self, config, seed):
        self.rng = SplitMix64(seed)
        self.checksum = Checksum()
        self.sizes = Zipf(float(config["max-size"]), config["size-exponent"])
        self.max_size = config["max-size"]
        self.degrees = Poisson(config["degree-mean"]) if config["degree-mean"] > 0.0 else None
        self.list_fraction = config["list-fraction"]
        self.descend = config["descend"]
        self.mix = [int(w) for w in config["mix"].split(":")]
        self.roots = [None] * config["roots"]
        self.path = Path()

    # ----- drawing ---------------------------------------------------------------------

    def draw_size(self):
        size = min(int(self.sizes.sample(self.rng)), self.max_size)
        self.checksum.mix(size)
        return size

    def draw_degree(self):
        degree = 0 if self.degrees is None else int(self.degrees.sample(self.rng))
        self.checksum.mix(degree)
        return degree

    def draw_operation(self):
        pick = self.rng.below(sum(self.mix))
        for operation, weight in enumerate(self.mix):
            if pick < weight:
                return operation
            pick -= weight
        raise AssertionError("the pick lies below the sum of the weights")

    def new_node(self):
        """A list of ``size`` values, or an instance of a value and ``size`` empty edge slots."""
        size = self.draw_size()
        if self.rng.chance(self.list_fraction):
            node = []
            for _ in range(size):
                node.append(self.rng.below(VALUE_RANGE))
            return node
        return node_class(size)(self.rng.below(VALUE_RANGE))

    # ----- walking ---------------------------------------------------------------------

    def walk(self):
        """Picks a root slot and walks down strong edges from the node in it, if any."""
        path = self.path
        path.root = self.rng.index(len(self.roots))
        node = self.roots[path.root]
        if node is None:
            return path
        path.nodes.append(node)
        path.positions.append(path.root)
        while self.rng.chance(self.descend):
            count = count_edges(node, path.nodes, CHILD)
            if count == 0:
                break
            position = nth_edge(node, path.nodes, CHILD, self.rng.index(count))
            node = item(node, position)
            path.nodes.append(node)
            path.positions.append(position)
        return path

    # ----- operations ------------------------------------------------------------------

    def operate(self, operation):
        path = self.walk()
        self.checksum.mix(operation)
        self.checksum.mix(len(path.nodes))
        self.checksum.mix(value_of(path.nodes[-1]) if path.nodes else VALUE_RANGE)
        if operation == CREATE:
            outcome = self.create(path)
        elif not path.nodes:
            outcome = MISS
        elif operation == LINK:
            outcome = self.add_back_edge(path.nodes[-1], path.nodes)
        elif operation == UNLINK:
            outcome = self.unlink(path.nodes)
        else:
            outcome = self.drop_holder(path)
        self.checksum.mix(outcome)
        path.clear()

    def create(self, path):
        """Creates a node, stores it in the holder (or the empty root slot) and gives it back
        edges."""
        node = self.new_node()
        if path.nodes:
            outcome = self.store(path.nodes[-1], path.nodes, node, False)
        else:
            self.roots[path.root] = node
            outcome = EMPTY
        path.nodes.append(node)
        for _ in range(self.draw_degree()):
            self.checksum.mix(self.add_back_edge(node, path.nodes))
        return outcome

    def add_back_edge(self, holder, path):
        """Stores a back edge from ``holder`` to a random instance on ``path``; MISS if none."""
        count = count_instances(path)
        if count == 0:
            return MISS
        target = nth_instance(path, self.rng.index(count))
        return self.store(holder, path, target, True)

    def store(self, holder, path, target, back_edge):
        """Appends ``target`` to a list holder, or stores it in a random empty edge slot of an
        instance holder (a random edge slot if none is empty); returns what the slot held."""
        if type(holder) is list:
            holder.append(target)
            return EMPTY
        empty = count_edges(holder, path, EMPTY)
        if empty > 0:
            slot = nth_edge(holder, path, EMPTY, self.rng.index(empty))
        else:
            slot = 1 + self.rng.index(len(holder.NAMES) - 1)
        outcome = held(holder, slot, path)
        setattr(holder, holder.NAMES[slot], target)
        return outcome

    def unlink(self, path):
        """Removes a random back edge of the holder; MISS if it has none."""
        holder = path[-1]
        count = count_edges(holder, path, BACK_EDGE)
        if count == 0:
            return MISS
        clear(holder, nth_edge(holder, path, BACK_EDGE, self.rng.index(count)))
        return BACK_EDGE

    def drop_holder(self, path):
        """Clears the strong edge into the holder: its subtree becomes garbage once ``path`` is
        emptied."""
        if len(path.nodes) == 1:
            self.roots[path.root] = None
        else:
            clear(path.nodes[-2], path.positions[-1])
        return CHILD

    # ----- the final walk --------------------------------------------------------------

    def digest_graph(self):
        """Walks every node reachable from the roots, depth first, mixing each one's value,
        kind, length and back-edge distances, then the node count."""
        nodes = 0
        path = []
        stack, depths = [], []  # two lists rather than a list of tuples: no tracked temporaries
        for root in self.roots:
            if root is None:
                self.checksum.mix(VALUE_RANGE)
                continue
            stack.append(root)
            depths.append(0)
            while stack:
                node, depth = stack.pop(), depths.pop()
                nodes += 1
                self.checksum.mix(value_of(node))
                self.checksum.mix(1 if type(node) is list else 0)
                self.checksum.mix(len(node) if type(node) is list else len(node.NAMES))
                del path[depth:]
                path.append(node)
                for position in edge_positions(node):
                    target = item(node, position)
                    if target is None or type(target) is int:
                        continue
                    ancestor = index_on(path, target)
                    if ancestor is None:
                        stack.append(target)
                        depths.append(depth + 1)
                    else:
                        self.checksum.mix(depth - ancestor)
            del path[:]
        self.checksum.mix(nodes)


def item(node, position):
    if type(node) is list:
        return node[position]
    return getattr(node, node.NAMES[position])


def value_of(node):
    return item(node, VALUE)


def edge_positions(node):
    """Where a node's edges can be: every item of a list (its values are ints), the slots
    after the value of an instance."""
    if type(node) is list:
        return range(len(node))
    return range(VALUE + 1, len(node.NAMES))


def clear(holder, position):
    """Clears an edge: a list item is removed, an instance slot emptied."""
    if type(holder) is list:
        holder.pop(position)
    else:
        setattr(holder, holder.NAMES[position], None)


def index_on(path, target):
    """The index of ``target`` on ``path`` by identity (``in`` would compare lists by value)."""
    for index in range(len(path)):
        if path[index] is target:
            return index
    return None


def held(node, position, path):
    """What ``node`` holds at ``position``: a back edge exactly when it points at a node on
    ``path``. (``item`` and ``index_on`` written out: this is the twin's innermost loop.)"""
    target = node[position] if type(node) is list else getattr(node, node.NAMES[position])
    if target is None:
        return EMPTY
    if type(target) is int:
        return HELD_VALUE
    for index in range(len(path)):
        if path[index] is target:
            return BACK_EDGE
    return CHILD


def count_edges(node, path, kind):
    count = 0
    for position in edge_positions(node):
        if held(node, position, path) == kind:
            count += 1
    return count


def nth_edge(node, path, kind, n):
    for position in edge_positions(node):
        if held(node, position, path) == kind:
            if n == 0:
                return position
            n -= 1
    raise AssertionError("fewer edges than counted")


def count_instances(path):
    """Instances on the path: the nodes a back edge may point at."""
    count = 0
    for node in path:
        if type(node) is not list:
            count += 1
    return count


def nth_instance(path, n):
    for node in path:
        if type(node) is not list:
            if n == 0:
                return node
            n -= 1
    raise AssertionError("fewer instances than counted")


def run(config, seed, checkpoints):
    churn = Run(config, seed)
    for _ in range(config["initial"]):
        churn.operate(CREATE)
    checkpoints.startup_done()
    request_ops = config["request-ops"]
    for done in range(1, config["operations"] + 1):
        churn.operate(churn.draw_operation())
        if done % request_ops == 0:
            checkpoints.request_done()
    churn.digest_graph()
    return churn.checksum
