"""The instructor pipeline around nbgrader: release, sandboxed parallel autograde, demo class.

Modules (imported on demand, so the kernel launcher stays light):
    config     course root (the repository), default limits, nbgrader config loading
    release    ``generate_assignment`` from solutions/ into exercises/ (reproducible)
    sandbox    bubblewrap kernel manager and the hardened nbgrader Execute preprocessor
    launch     in-sandbox launcher: resource limits, then ipykernel
    grade_one  grade one submission in its own scratch course (pool worker + driver)
    autograde  collect submissions, fan out over an Executor, record, table, CSV
    demo       a demo class generated from the solution, with expected scores
    cli        ``python -m cnnlab course {release,autograde,demo}``
"""
