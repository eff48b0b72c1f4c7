"""The self-study web book: ``python -m cnnlab book [options]`` (see `cnnlab.book.build`).

Modules:
    execute  run lecture notebooks concurrently, cached by content hash
    static   widget outputs -> the static outputs they captured
    pages    problem-set pages and "planned" lecture pages, from cnnlab.syllabus
    build    assemble OUT/src, run Sphinx, the command line
"""
from cnnlab.book.build import assemble, main, sphinx_build
from cnnlab.book.execute import cache_key, execute_notebooks
from cnnlab.book.pages import planned_lecture_notebook, write_planned_lectures, write_problem_sets
from cnnlab.book.static import WIDGET_NOTE, WIDGET_STATE, WIDGET_VIEW, static_widgets
from cnnlab.syllabus import PROBLEM_SETS, ROOT

__all__ = ["assemble", "main", "sphinx_build", "cache_key", "execute_notebooks", "planned_lecture_notebook",
           "write_planned_lectures", "write_problem_sets", "WIDGET_NOTE", "WIDGET_STATE", "WIDGET_VIEW",
           "static_widgets", "PROBLEM_SETS", "ROOT"]
