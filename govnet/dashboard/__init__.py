"""The machine-room terminal view (``govnet dashboard``), read from the monitor's store.

``snapshot.py`` reads one frame's data; ``render.py`` lays it out to a width and height;
``live.py`` refreshes it in the alternate screen (at most 4 times a second) with paging keys.
"""
