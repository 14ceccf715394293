"""The answering core: a parsed question, scored candidate sentences, the short answer."""
