"""Twin of ``workloads/src/trees.rs``: binary trees built and dropped whole (GCBench, binary-trees).

Nodes are what the Rust workload allocates: GCBench nodes are instances with four slots (left,
right and two ints), five with a parent slot; binary-trees nodes are 2-tuples ``(left, right)``,
or instances with left, right and parent slots when ``parents`` is on. Every leaf is a new
``(None, None)`` tuple, built from a variable: the literal would be one shared constant in
CPython, and the Rust workload allocates every leaf. The seed is accepted and ignored. The walks
recurse, where the Rust ones keep a stack: trees are at most 26 deep, and a Python call is
cheaper than a list push and pop.

CPython 3.11 takes 2-tuples from, and returns them to, the tuple free list (up to 2,000 per
size) without moving the gen-0 count, so a 2,047-node tree of depth 10 counts as 47 allocations.
The heap models those free lists in its gen-0 count (``FreeLists`` in
``heap/collector/free_lists.rs``); before it did, the tuple variant ran 11,344 collections at
``default`` size against CPython's 8,304.

``back-edges=weak`` is the twin of the model's strategy parameter of that name (``harness
validate`` passes it here): parent pointers are ``weakref.ref(parent)``, the idiom the Python docs
recommend. Both children share their parent's one weakref object (CPython returns the existing
basic reference), as the heap's weak back edges do; weakrefs are tracked containers, so the
collector still sees them.
"""

from weakref import ref

from common import Checksum, parse_bool, preset

MIN_DEPTH = 4
MAX_SUPPORTED_DEPTH = 26


class GcBenchNode:
    __slots__ = ("left", "right", "i", "j", "__weakref__")

    def __init__(self):
        self.left = None
        self.right = None
        self.i = 0
        self.j = 0


class GcBenchParentNode:
    __slots__ = ("left", "right", "i", "j", "parent", "__weakref__")

    def __init__(self):
        self.left = None
        self.right = None
        self.i = 0
        self.j = 0
        self.parent = None


class ParentNode:
    """A binary-trees node with a parent back-pointer."""

    __slots__ = ("left", "right", "parent", "__weakref__")

    def __init__(self):
        self.left = None
        self.right = None
        self.parent = None


def invalid(name, value, reason):
    return SystemExit(f"workload `trees`: parameter `{name}` = `{value}`: {reason}")


def parse_back_edges(value):
    if value not in ("strong", "weak"):
        raise ValueError("expected strong or weak")
    return value


def configure(size, params):
    parents = params.get("parents", False, parse_bool)
    back_edges = params.get("back-edges", "strong", parse_back_edges)
    variant = params.get("variant", "gcbench", str)
    if variant == "gcbench":
        stretch, long_lived, deepest = preset(size, (8, 6, 6), (14, 12, 12), (18, 16, 16), (20, 18, 18))
        config = {
            "variant": variant,
            "stretch-depth": params.get("stretch-depth", stretch),
            "long-lived-depth": params.get("long-lived-depth", long_lived),
            "depth": params.get("depth", deepest),
        }
    elif variant == "binary-trees":
        for gcbench_only in ("stretch-depth", "long-lived-depth"):
            value = params.get(gcbench_only, None, str)
            if value is not None:
                raise invalid(gcbench_only, value, "only the gcbench variant has it")
        config = {"variant": variant, "depth": params.get("depth", preset(size, 6, 10, 16, 18))}
    else:
        raise invalid("variant", variant, "expected gcbench or binary-trees")
    for name in ("stretch-depth", "long-lived-depth", "depth"):
        if name not in config:
            continue
        if config[name] < 0:
            raise invalid(name, config[name], "a depth cannot be negative")
        if config[name] > MAX_SUPPORTED_DEPTH:
            raise invalid(name, config[name], f"at most {MAX_SUPPORTED_DEPTH}")
    if variant == "gcbench":
        if config["depth"] < MIN_DEPTH:
            raise invalid("depth", config["depth"], f"at least {MIN_DEPTH}")
        if config["stretch-depth"] < config["depth"]:
            raise invalid("stretch-depth", config["stretch-depth"], "must be at least `depth`")
    config["parents"] = parents
    config["_weak-parents"] = parents and back_edges == "weak"
    return config


def tree_size(depth):
    """Nodes in a complete binary tree of depth ``depth``."""
    return (1 << (depth + 1)) - 1


class Shape:
    """How nodes are laid out: GCBench nodes carry two ints; with parents they carry a back edge."""

    __slots__ = ("parents", "weak_parents", "leaf_ints", "new_node")

    def __init__(self, parents, leaf_ints, weak_parents=False):
        self.parents = parents
        self.weak_parents = weak_parents
        self.leaf_ints = leaf_ints
        # `shape.new_node()` makes a node: the node class itself, called without an extra frame.
        if leaf_ints:
            self.new_node = GcBenchParentNode if parents else GcBenchNode
        else:
            self.new_node = ParentNode

    def link(self, parent, left, right):
        parent.left = left
        parent.right = right
        if self.weak_parents:
            left.parent = right.parent = ref(parent)
        elif self.parents:
            left.parent = parent
            right.parent = parent

    def populate(self, depth, node):
        """GCBench's ``Populate``: grows ``node`` top-down to ``depth``."""
        if depth == 0:
            return
        left, right = self.new_node(), self.new_node()
        self.link(node, left, right)
        self.populate(depth - 1, left)
        self.populate(depth - 1, right)

    def make_tree(self, depth):
        """GCBench's ``MakeTree``: builds a tree bottom-up."""
        node = self.new_node()
        if depth > 0:
            left, right = self.make_tree(depth - 1), self.make_tree(depth - 1)
            self.link(node, left, right)
        return node

    def count_nodes(self, node):
        """Walks a whole tree, checking every node's parent edge and integers; returns its size."""
        if self.leaf_ints:
            assert node.i == 0 and node.j == 0, "a node lost its integers"
        count = 1
        for child in (node.left, node.right):
            if child is None:
                continue
            if self.parents:
                parent = child.parent() if self.weak_parents else child.parent
                assert parent is node, "a child's parent edge does not lead back to its parent"
            count += self.count_nodes(child)
        return count

    def left_spine(self, root):
        """Depth of the leftmost path: a cheap check that a temporary tree was really built."""
        depth = 0
        node = root
        while node.left is not None:
            node = node.left
            depth += 1
        return depth


def gcbench(shape, stretch_depth, long_lived_depth, max_depth, checkpoints, checksum):
    stretch = shape.make_tree(stretch_depth)
    checksum.mix(shape.count_nodes(stretch))
    del stretch

    long_lived = shape.new_node()
    shape.populate(long_lived_depth, long_lived)
    checkpoints.startup_done()

    for depth in range(MIN_DEPTH, max_depth + 1, 2):
        iterations = 2 * tree_size(stretch_depth) // tree_size(depth)
        for _ in range(iterations):
            tree = shape.new_node()
            shape.populate(depth, tree)
            checksum.mix(shape.left_spine(tree))
            del tree
            checkpoints.request_done()
        for _ in range(iterations):
            tree = shape.make_tree(depth)
            checksum.mix(shape.left_spine(tree))
            del tree
            checkpoints.request_done()
        checksum.mix(depth)
        checksum.mix(iterations)
    checksum.mix(shape.count_nodes(long_lived))


def binary_trees(n, parents, weak_parents, checkpoints):
    """The Benchmarks Game's binary-trees with maximum depth ``n``; returns its output lines."""
    shape = Shape(parents, leaf_ints=False, weak_parents=weak_parents)
    max_depth = max(n, MIN_DEPTH + 2)
    stretch_depth = max_depth + 1
    lines = []

    stretch = bottom_up_tree(shape, stretch_depth)
    lines.append(f"stretch tree of depth {stretch_depth}\t check: {item_check(stretch)}")
    del stretch

    long_lived = bottom_up_tree(shape, max_depth)
    checkpoints.startup_done()
    for depth in range(MIN_DEPTH, max_depth + 1, 2):
        iterations = 1 << (max_depth - depth + MIN_DEPTH)
        check = 0
        for _ in range(iterations):
            check += item_check(bottom_up_tree(shape, depth))
            checkpoints.request_done()
        lines.append(f"{iterations}\t trees of depth {depth}\t check: {check}")
    lines.append(f"long lived tree of depth {max_depth}\t check: {item_check(long_lived)}")
    return lines


def bottom_up_tree(shape, depth):
    """A binary-trees node: a 2-tuple ``(left, right)``, or an instance with a parent slot."""
    if shape.parents:
        return shape.make_tree(depth)
    if depth == 0:
        leaf = None  # a new tuple for every leaf: the literal `(None, None)` is one shared constant
        return (leaf, leaf)
    return (bottom_up_tree(shape, depth - 1), bottom_up_tree(shape, depth - 1))


def item_check(node):
    """binary-trees' ``check``: the number of nodes."""
    left, right = node if type(node) is tuple else (node.left, node.right)
    count = 1
    if left is not None:
        count += item_check(left)
    if right is not None:
        count += item_check(right)
    return count


def run(config, seed, checkpoints):
    checksum = Checksum()
    if config["variant"] == "gcbench":
        shape = Shape(config["parents"], leaf_ints=True, weak_parents=config["_weak-parents"])
        depths = config["stretch-depth"], config["long-lived-depth"], config["depth"]
        gcbench(shape, *depths, checkpoints, checksum)
    else:
        for line in binary_trees(config["depth"], config["parents"], config["_weak-parents"], checkpoints):
            for byte in line.encode():
                checksum.mix(byte)
    return checksum
