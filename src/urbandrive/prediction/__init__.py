"""Prediction: K joint scene futures for every agent, with probabilities."""

from urbandrive.prediction.baselines import ConstantVelocityPredictor
from urbandrive.prediction.interfaces import Prediction, Predictor

__all__ = ["ConstantVelocityPredictor", "Prediction", "Predictor"]
