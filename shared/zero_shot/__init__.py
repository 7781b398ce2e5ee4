"""zero_shot"""
