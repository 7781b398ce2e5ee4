"""The layout rules of `shared/` (README: "How it is built"), checked by parsing every import, so they cannot rot:

- only `tabs/`, `shared/serving/` and `app.py` import gradio;
- a task's `run` and `capture` never import a `views` or `inside` module; `views` and `inside` never import the loader;
- a task package reaches another task package only through that package's `run` module;
- layers only import downwards: common (config, errors, progress, inside, models, audio, outputs) < tasks < serving
  < tabs < app;
- no private name (`_x`) is imported from, or read off, another module;
- no import cycles; every task package has the four step modules;
- environment variables are read in `shared/config.py` only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("visualize", "transcribe", "classify", "zero_shot", "diarize", "tts")
COMMON = ("config", "errors", "progress", "inside", "models", "audio", "outputs")
STEPS = ("run", "capture", "views", "inside")
NO_MODEL = {"visualize": ("capture", "inside")}  # no model, so nothing to capture or look inside


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name, e.g. "shared.transcribe.run"
    imported: str  # dotted module name as written (a `from a import b` of module b gives "a.b")
    names: tuple[str, ...]
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "shared").rglob("*.py")), *sorted((ROOT / "tabs").rglob("*.py"))]


def is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> Iterator[Import]:
    importer = module_name(path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from shared.x import run` imports the module shared.x.run
                submodule = f"{node.module}.{alias.name}"
                if is_module(submodule):
                    yield Import(importer, submodule, (), node.lineno)
            names = tuple(alias.name for alias in node.names if not is_module(f"{node.module}.{alias.name}"))
            if names:
                yield Import(importer, node.module, names, node.lineno)


ALL = [found for path in project_files() for found in imports_of(path)]
PROJECT = [found for found in ALL if found.imported.split(".")[0] in ("shared", "tabs", "app")]


def layer(module: str) -> int:
    parts = module.split(".")
    if parts[0] == "app":
        return 4
    if parts[0] == "tabs":
        return 3
    if len(parts) == 1 or parts[1] in COMMON:
        return 0
    return 2 if parts[1] == "serving" else 1


def task_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "shared" and len(parts) > 1 and parts[1] in TASKS else None


def step_of(module: str) -> str | None:
    return module.split(".")[-1] if task_of(module) else None


def where(found: Import) -> str:
    return f"{found.importer}:{found.line} imports {found.imported} {list(found.names) or ''}"


def test_only_the_ui_imports_gradio() -> None:
    ui = [found for found in ALL if found.imported.split(".")[0] == "gradio"]
    assert ui, "the parser found no gradio import at all"
    assert [where(found) for found in ui if layer(found.importer) < 2] == []


def test_run_and_capture_never_import_views_or_inside() -> None:
    bad = [found for found in PROJECT
           if step_of(found.importer) in ("run", "capture") and step_of(found.imported) in ("views", "inside")]
    assert [where(found) for found in bad] == []


def test_views_and_inside_never_import_the_loader() -> None:
    bad = [found for found in PROJECT
           if step_of(found.importer) in ("views", "inside") and found.imported == "shared.models.loader"]
    assert [where(found) for found in bad] == []


def test_task_packages_meet_only_through_run() -> None:
    bad = [found for found in PROJECT
           if task_of(found.importer) and task_of(found.imported)
           and task_of(found.importer) != task_of(found.imported) and step_of(found.imported) != "run"]
    assert [where(found) for found in bad] == []


BUILT_ON_TASKS = {"evaluate": ("run", "rttm", "scoring")}  # packages over the tasks: the task modules they may read


def test_packages_over_the_tasks_read_them_through_run() -> None:
    """shared/evaluate runs every task's own `run` (plus diarize's RTTM/DER scoring helpers), nothing deeper."""
    bad = [found for found in PROJECT if found.importer.split(".")[1:2] == ["evaluate"] and task_of(found.imported)
           and found.imported.split(".")[-1] not in BUILT_ON_TASKS["evaluate"]]
    assert [where(found) for found in bad] == []
    assert any(found.importer.startswith("shared.evaluate") and task_of(found.imported) for found in PROJECT)


def test_layers_only_import_downwards() -> None:
    bad = [found for found in PROJECT if layer(found.imported) > layer(found.importer)]
    assert [where(found) for found in bad] == []


def test_no_private_name_crosses_a_module() -> None:
    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    imported = [where(found) for found in PROJECT if any(private(name) for name in found.names)]
    assert imported == []
    read_off = []
    for path in project_files():
        tree = ast.parse(path.read_text())
        aliases = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and node.module and node.module.startswith("shared") for alias in node.names
                   if is_module(f"{node.module}.{alias.name}")}
        read_off += [f"{module_name(path)}:{node.lineno} reads {node.value.id}.{node.attr}"
                     for node in ast.walk(tree) if isinstance(node, ast.Attribute) and private(node.attr)
                     and isinstance(node.value, ast.Name) and node.value.id in aliases]
    assert read_off == []


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for found in PROJECT:
        graph.setdefault(found.importer, set()).add(found.imported)
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return [*path, module, target]
            if target not in state and (cycle := visit(target, [*path, module])):
                return cycle
        state[module] = 2
        return None

    cycles = [cycle for module in sorted(graph) if module not in state and (cycle := visit(module, []))]
    assert cycles == []


def test_every_task_package_has_the_four_steps() -> None:
    missing = [f"shared/{task}/{step}.py" for task in TASKS for step in STEPS
               if step not in NO_MODEL.get(task, ()) and not (ROOT / "shared" / task / f"{step}.py").is_file()]
    assert missing == []


def test_every_package_says_what_it_holds() -> None:
    packages = [path for path in (ROOT / "shared").rglob("__init__.py")]
    undocumented = [str(path.relative_to(ROOT)) for path in packages
                    if len(ast.get_docstring(ast.parse(path.read_text())) or "") < 80]
    assert undocumented == []


def test_every_module_and_public_run_function_has_a_docstring() -> None:
    missing = []
    for path in sorted((ROOT / "shared").rglob("*.py")):
        tree = ast.parse(path.read_text())
        missing += [] if ast.get_docstring(tree) else [str(path.relative_to(ROOT))]
        if path.name == "run.py":
            missing += [f"{path.relative_to(ROOT)}:{node.name}" for node in tree.body
                        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
                        and not ast.get_docstring(node)]
    assert missing == []


def environment_reads(tree: ast.AST) -> list[int]:
    """Lines that read os.environ (`.get`, `[...]`) or call os.getenv; setdefault (a write) is not a read."""
    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    return [node.lineno for node in ast.walk(tree)
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and ((node.func.attr == "get" and is_environ(node.func.value)) or node.func.attr == "getenv"))
            or (isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.ctx, ast.Load))]


def test_only_config_reads_the_environment() -> None:
    reads = {str(path.relative_to(ROOT)): environment_reads(ast.parse(path.read_text())) for path in project_files()}
    assert reads["shared/config.py"], "the parser found no read in config.py"
    assert {path: lines for path, lines in reads.items() if lines and path != "shared/config.py"} == {}


def test_bench_scripts_import_what_exists() -> None:
    """The benchmarks run by hand, not in the suite: their imports of the project must still resolve."""
    import importlib

    missing = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for found in imports_of(path):
            if found.imported.startswith("shared"):
                module = importlib.import_module(found.imported)
                missing += [f"{path.name}:{found.line} {found.imported}.{name}" for name in found.names
                            if not hasattr(module, name)]
    assert missing == []


def test_the_rules_see_the_real_imports() -> None:
    """Guards the parser: a known arrow of each kind is found."""
    arrows = {(found.importer, found.imported) for found in PROJECT}
    assert ("shared.transcribe.batch", "shared.transcribe.run") in arrows
    assert ("tabs.transcribe", "shared.transcribe.inside") in arrows
    assert ("shared.models.loader", "shared.models.registry") in arrows
