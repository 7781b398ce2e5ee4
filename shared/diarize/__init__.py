"""diarize"""
