"""The ``kiwoom`` command's implementation (typer and rich; the ``cli`` extra).

``kiwoom.cli.main`` is the entry point; it checks the extra is installed before importing this.
"""
