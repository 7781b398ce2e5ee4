"""transcribe"""
