"""Compatibility-matrix harness for duplicated Windows services."""

__version__ = "0.1.0"
