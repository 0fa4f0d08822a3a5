"""Rasa input channels for the chat apps Chinese sales teams use: Feishu/Lark, DingTalk and WeCom.

Each is listed in bot/credentials.yml and stays off (no routes) until its environment variables are set;
see README.md, "Chinese team chats" (one part per platform, in Chinese and English).
"""
