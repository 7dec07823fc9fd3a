"""Zhongwei e-commerce and express-delivery data platform."""
