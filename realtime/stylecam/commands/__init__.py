"""The runtime's commands: one module each, with HELP, add_arguments(parser) and run(args).

They are found through the ``stylecam.commands`` entry points (pyproject.toml), the same
registry through which the recipe adds train, paint, distill and bench-train. Their top level
imports only the standard library and light stylecam modules, so that `stylecam --help`, which
loads them all to list them, answers at once.
"""
