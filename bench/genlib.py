"""Shared by gen_junit.py and gen_toxlog.py (standard library only)."""


def version_stream(seeds):
    """Yields PEP 440 versions: the seeds, then derived unique ones."""
    seen = set()
    for v in seeds:
        seen.add(v)
        yield v
    n = 0
    while True:
        n += 1
        major, minor, patch = n // 97, (n // 7) % 14, n % 7
        kind = n % 11
        if kind == 3:
            v = f"{major}.{minor}.{patch}b{n % 4}"
        elif kind == 5:
            v = f"{major}.{minor}rc{1 + n % 3}"
        elif kind == 8:
            v = f"{major}.{minor}.{patch}.post{n % 5}"
        else:
            v = f"{major}.{minor}.{patch}"
        if v not in seen:
            seen.add(v)
            yield v
