# Shortcuts for the two commands of the README; ./dev works without make.
.PHONY: demo test setup

demo:
	./dev demo

test:
	./dev test

setup:
	./dev setup
