"""Building and updating an index: incremental, atomic on disk.

Imports every stage before it (``corpus``, ``analysis``, ``storage``); no stage after it does:
only the front ends (``bot``) and the workshop build.
"""
