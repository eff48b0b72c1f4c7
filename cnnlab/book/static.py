"""Widget outputs -> static outputs: a static page has no kernel to drive widgets."""
from __future__ import annotations

import copy
import html
import re

__all__ = ["static_widgets", "WIDGET_VIEW", "WIDGET_STATE", "WIDGET_NOTE"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_NOTE = ("<p class=\"cnnlab-widget-note\"><em>Interactive controls are not "
               "available in the web book: open the notebook in Jupyter to use them."
               "</em></p>")


def _captured_outputs(model_id: str, state: dict, seen: set) -> list:
    """Outputs captured by a widget and its children (Output widgets hold them)."""
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id].get("state", {})
    outs = list(model.get("outputs", []))
    for child in model.get("children", []):
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            outs += _captured_outputs(child[len("IPY_MODEL_"):], state, seen)
    return outs


def _progress_text(model_id: str, state: dict) -> str | None:
    """A tqdm-style line for a progress-bar widget tree, None for other widgets."""
    parts, has_bar = [], False

    def walk(mid):
        nonlocal has_bar
        model = state.get(mid, {})
        name, st = model.get("model_name", ""), model.get("state", {})
        if name in ("FloatProgressModel", "IntProgressModel"):
            has_bar = True
            frac = st.get("value", 0) / st["max"] if st.get("max") else 0.0
            filled = max(0, min(10, round(10 * frac)))
            parts.append("|" + "█" * filled + " " * (10 - filled) + "|")
        elif name in ("HTMLModel", "LabelModel"):
            parts.append(html.unescape(re.sub(r"<[^>]*>", "", st.get("value", ""))))
        for child in st.get("children", []):
            if isinstance(child, str) and child.startswith("IPY_MODEL_"):
                walk(child[len("IPY_MODEL_"):])

    walk(model_id)
    return "".join(parts).replace("\u2007", " ") if has_bar else None


def static_widgets(nb) -> int:
    """Replace widget-view outputs in nb by what the widgets displayed; return count.

    Output widgets (``interact``) give their captured outputs, progress bars
    (tqdm) their final line, and other widgets (a bare slider) a short note. The
    widget state is dropped from the metadata so no widget JavaScript is loaded.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW not in data:
                new.append(out)
                continue
            count += 1
            captured = _captured_outputs(data[WIDGET_VIEW].get("model_id", ""), state, set())
            captured = [copy.deepcopy(o) for o in captured
                        if WIDGET_VIEW not in o.get("data", {})]
            if captured:
                new += captured
            elif (line := _progress_text(data[WIDGET_VIEW].get("model_id", ""), state)):
                new.append({"output_type": "stream", "name": "stdout", "text": line + "\n"})
            else:
                new.append({"output_type": "display_data", "metadata": {},
                            "data": {"text/html": WIDGET_NOTE,
                                     "text/plain": "(interactive widget)"}})
        cell["outputs"] = [_as_node(o) for o in new]
    nb.metadata.pop("widgets", None)
    return count


def _as_node(out):
    import nbformat

    return out if isinstance(out, nbformat.NotebookNode) else nbformat.from_dict(out)
