"""Signals (baselines with seasonality and noise) and the incidents injected into them."""
