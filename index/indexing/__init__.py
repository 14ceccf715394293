"""Building and updating an index: incremental, atomic on disk.

Imports every stage before it (``corpus``, ``analysis``, ``storage``); nothing imports it but
the front ends.
"""
