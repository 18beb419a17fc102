"""Grid-operator settings shared by every topology (``grid.limits``, ``grid.supply``, ``grid.lmp``).

Each feeder builder (:class:`~agents.topology.RadialFeeders`,
:class:`~agents.feeders.Sce56Feeder`, :class:`~agents.city.CityLayout`) carries these
three fields; :func:`build_grid_settings` turns config mappings into the objects and
prefixes a bad value's key with the field's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.params import ParameterError, check
from agents.powerflow.limits import GridLimits
from agents.tariff import GridSupply


def build_grid_settings(obj: Any) -> None:
    """Build ``obj.limits`` and ``obj.supply`` from mappings; check ``obj.lmp``."""
    for name, kind in (("limits", GridLimits), ("supply", GridSupply)):
        value = getattr(obj, name)
        if isinstance(value, Mapping):
            try:
                object.__setattr__(obj, name, kind(**value))
            except ParameterError as error:
                raise error.within(name) from None
            except TypeError as error:
                raise ParameterError(
                    name, f"a mapping of {kind.__name__} fields", str(error)
                ) from None
    check(isinstance(obj.lmp, bool), "lmp", "true or false", obj.lmp)
