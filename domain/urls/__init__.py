"""The urls area: normalizing added URLs and deriving their ids."""
