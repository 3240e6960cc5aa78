"""Print the import graph between commhub's packages, from the code: `make graph`.

One line per package, with the packages it imports (and how many imports), and any cycle
between packages. The layers in pyproject.toml forbid cycles; this shows the graph itself.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

import grimp


def package_of(module: str) -> str:
    """commhub.editions.lifecycle -> editions; commhub.wiring -> wiring."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "commhub"


def package_imports() -> dict[str, Counter[str]]:
    """For each package, the packages it imports directly, with the count of imports."""
    graph = grimp.build_graph("commhub")
    edges: dict[str, Counter[str]] = defaultdict(Counter)
    for module in graph.modules:
        source = package_of(module)
        edges[source]  # every package gets a line, even one importing nothing
        for imported in graph.find_modules_directly_imported_by(module):
            target = package_of(imported)
            if target != source:
                edges[source][target] += 1
    return edges


def cycles(edges: dict[str, Counter[str]]) -> list[list[str]]:
    """Every cycle between packages, each as the path that closes it."""
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for target in sorted(edges.get(node, ())):
            if target == path[0]:
                found.append([*path, target])
            elif target not in path and target > path[0]:
                visit(target, [*path, target])

    for start in sorted(edges):
        visit(start, [start])
    return found


def main() -> int:
    edges = package_imports()
    order = sorted(edges, key=lambda name: (-len(_reachable(edges, name)), name))
    width = max(map(len, order))
    for name in order:
        targets = ", ".join(f"{t} ({n})" for t, n in sorted(edges[name].items()))
        print(f"{name:<{width}}  -> {targets or '(nothing)'}")
    found = cycles(edges)
    print("cycles:", "; ".join(" -> ".join(c) for c in found) if found else "none")
    return 1 if found else 0


def _reachable(edges: dict[str, Counter[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for target in edges.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


if __name__ == "__main__":
    sys.exit(main())
