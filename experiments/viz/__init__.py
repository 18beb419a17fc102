"""The browser view of a run (``gridledger-viz``): Mesa SolaraViz page parts.

- :mod:`~experiments.viz.model`: the model the page steps, built from the CLI's config.
- :mod:`~experiments.viz.controls`: the page's controls (SolaraViz ``model_params``).
- :mod:`~experiments.viz.grid_view`: the feeder map.
- :mod:`~experiments.viz.plots`: time series and distributions.
- :mod:`~experiments.viz.ledger`: latest blocks and trades, verifying the chain so far.
- :mod:`~experiments.viz.pages`: the Solara components, one per page (tab).

The entry point is :mod:`experiments.app`.
"""
