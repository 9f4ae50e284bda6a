"""The provenance of a report: key facts of ``result.provenance`` as a compact table, the raw JSON collapsed."""
from __future__ import annotations

import json

from flatminima.reports.markup import _cell, _md_cell, _x

_RUN_TIME_KEYS = ("wall_seconds", "wall_time_seconds", "wall_time_s", "run_seconds", "elapsed_seconds")
_HOST_KEYS = ("host", "hostname", "node", "machine", "platform")
_CORE_KEYS = ("cores", "n_cores", "cpu_count", "cpus", "workers", "n_workers")
_STORE_KEYS = ("store", "out", "results", "output")
_METHOD_KEYS = ("method", "dynamics", "optimizer", "noise", "criterion")


def _walk(value, path=()):
    """Every (path, key, value) of the nested dicts and lists of ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path, str(k), v
            yield from _walk(v, path + (str(k),))
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, path)


def _distinct(values) -> list:
    return list(dict.fromkeys(v for v in values if v is not None))


def _seconds(value) -> str:
    t = float(value)
    if t >= 120:
        return f"{t:.0f} s ({t / 60:.1f} min)"
    return f"{t:.4g} s"


def _short(value, limit: int = 160) -> str | None:
    """The value as one line of text when it is short (a scalar or a short list of scalars), else None."""
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
        return None
    text = ", ".join(_cell(v) for v in value) if isinstance(value, list) else _cell(value)
    return text if len(text) <= limit else None


def provenance_facts(provenance: dict) -> list[tuple[str, str]]:
    """The key facts of a provenance record as (label, text) rows, found wherever the suite recorded them.

    Package versions (``versions``/``packages``), a git commit, seeds (stated and per task), the methods
    (``method``, ``dynamics``, ``optimizer``, ``noise``, ``criterion`` values anywhere in the record),
    landscapes, host and cores, run time, store path, numbers of tasks and distinct config hashes, then
    the remaining short top-level items; longer items are named in the last row (they are in the raw JSON).
    """
    if not provenance:
        return []
    items = list(_walk(provenance))
    used = set()
    rows = []
    versions = {}
    for key in ("versions", "packages"):
        if isinstance(provenance.get(key), dict):
            versions.update(provenance[key])
            used.add(key)
    if versions.get("flatminima") or provenance.get("flatminima"):
        rows.append(("flatminima version", str(versions.get("flatminima") or provenance.get("flatminima"))))
        used.add("flatminima")
    commits = _distinct(str(v) for _, k, v in items
                        if isinstance(v, (str, int)) and any(w in k.lower() for w in ("git", "commit", "revision")))
    if commits:
        rows.append(("git commit", ", ".join(commits)))
    if versions.get("python"):
        rows.append(("Python", str(versions["python"])))
    others = [f"{k} {v}" for k, v in versions.items() if k not in ("flatminima", "python", "platform")]
    if others:
        rows.append(("packages", ", ".join(others)))
    hosts = _distinct([versions.get("platform")] + [provenance.get(k) for k in _HOST_KEYS])
    used.update(_HOST_KEYS)
    if hosts:
        rows.append(("host", "; ".join(map(str, hosts))))
    cores = [(k, provenance[k]) for k in _CORE_KEYS if provenance.get(k) is not None]
    used.update(_CORE_KEYS)
    if cores:
        rows.append(("cores / workers", "; ".join(f"{k}: {_cell(v)}" for k, v in cores)))
    seeds = []
    for key in ("seeds", "seed", "suite_seed", "data_seed", "training_seeds", "train_seeds"):
        if provenance.get(key) is not None:
            text = _short(provenance[key], 400)
            seeds.append(f"{key}: {text}" if text is not None else f"{key}: see the raw JSON")
            used.add(key)
    nested = _distinct(v for path, k, v in items if k == "seed" and path and isinstance(v, int))
    if nested:
        shown = ", ".join(map(str, nested[:4])) + (", …" if len(nested) > 4 else "")
        seeds.append(f"{len(nested)} distinct seed{'s' if len(nested) > 1 else ''} in the tasks/experiments ({shown})")
    if seeds:
        rows.append(("seeds", "; ".join(seeds)))
    methods = []
    for key in _METHOD_KEYS:
        values = _distinct((v.get("kind") if isinstance(v, dict) else v) for _, k, v in items if k == key
                           and (isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("kind"), str))))
        if values:
            methods.append(f"{key}: {', '.join(map(str, values))}")
    if methods:
        rows.append(("methods", "; ".join(methods)))
    lands = _distinct(v for _, k, v in items if k in ("landscape", "model_spec") and isinstance(v, str))
    if lands:
        rows.append(("landscapes", ", ".join(lands)))
    used.update(("landscape", "model_spec"))
    for key in _RUN_TIME_KEYS:
        if isinstance(provenance.get(key), (int, float)) and not isinstance(provenance.get(key), bool):
            rows.append(("run time", _seconds(provenance[key])))
            used.add(key)
            break
    for key in _STORE_KEYS:
        if isinstance(provenance.get(key), str):
            rows.append(("store" if key == "store" else f"{key} folder", provenance[key]))
            used.add(key)
    counts = []
    if provenance.get("n_tasks") is not None:
        counts.append(f"{_cell(provenance['n_tasks'])} tasks")
        used.add("n_tasks")
    hashes = _distinct(v for _, k, v in items if k in ("task_hash", "config_hash") and isinstance(v, str))
    if hashes:
        counts.append(f"{len(hashes)} distinct config hashes")
    experiments = provenance.get("json", {}).get("experiments") if isinstance(provenance.get("json"), dict) else None
    if isinstance(experiments, list):
        counts.append(f"{len(experiments)} experiments")
    if counts:
        rows.append(("tasks", ", ".join(counts)))
    rest, long = [], []
    for key, value in provenance.items():
        if key in used or key in _RUN_TIME_KEYS:
            continue
        text = _short(value)
        if text is None:
            size = len(value) if isinstance(value, (list, dict)) else None
            long.append(f"{key} ({size} entries)" if size is not None else str(key))
        else:
            rest.append((str(key), text))
    rows += rest
    if long:
        rows.append(("also recorded", ", ".join(long) + " (in the raw JSON below)"))
    return rows


def _provenance_json(provenance: dict) -> str:
    return json.dumps(provenance, indent=1, ensure_ascii=False, default=_cell)


def _provenance_md(provenance: dict) -> list[str]:
    if not provenance:
        return ["(no provenance recorded)", ""]
    raw = _provenance_json(provenance)
    out = ["| item | value |", "|---|---|"]
    out += [f"| {_md_cell(k)} | {_md_cell(v)} |" for k, v in provenance_facts(provenance)]
    return out + ["", f"<details><summary>Raw provenance record (JSON, {raw.count(chr(10)) + 1} lines)</summary>",
                  "", "```json", raw, "```", "", "</details>", ""]


def _provenance_html(provenance: dict) -> str:
    if not provenance:
        return "<p>(no provenance recorded)</p>"
    raw = _provenance_json(provenance)
    rows = "".join(f"<tr><th>{_x(k)}</th><td>{_x(v)}</td></tr>" for k, v in provenance_facts(provenance))
    return (f'<table class="facts">{rows}</table>\n'
            f'<details><summary>Raw provenance record (JSON, {raw.count(chr(10)) + 1} lines)</summary>'
            f"<pre>{_x(raw)}</pre></details>")


# ========================================================================================= laws
