"""Poise models: training, export and evaluation code, plus the shipped ``.tflite`` files and cards.

Only the shipped model files and their cards are needed on the device; the training modules
import TensorFlow and friends, which come with the ``train`` extra.
"""
