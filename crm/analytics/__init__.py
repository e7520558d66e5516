"""Group monitoring (集团监控): per store per day rollups, the dashboard metrics defined once, trends and charts.

- `tables.py`: the rollups (`StoreDay`, `StoreDayResolution`) and the queue of touched store-days (`RollupDirty`);
- `rollups.py`: how a store-day is counted from raw rows (the one place), refresh and rebuild;
- `metrics.py`: every dashboard figure, one object each, its formula in the docstring;
- `dashboard.py`: the store table and the trends, read from the rollups through the caller's scope;
- `access.py`: who may see which stores' figures;
- `charts.py`, `export.py`: one SVG chart definition; XLSX and CSV exports.
"""
