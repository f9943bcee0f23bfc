"""Reports (数据分析, SPEC §6): the owner's view of the business, computed from the index.

- :mod:`.model`: a report's period, filters and result (figures, tables, footnote);
- :mod:`.facts`: the narrow fact tables the reports add up, kept in step with the index;
- :mod:`.compute`: each report of SPEC §6, and the quality indicators of §4;
- :mod:`.month`: the month's figures the TUI's dashboard shows.

Services only: nothing here prints; the command (``hk report``) and the TUI show the results.
"""
