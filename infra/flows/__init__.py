"""State-machine definitions (Amazon States Language) of the contexts' flows, one module per flow.

They are infrastructure: the CDK constructs synthesize them and the tests execute them under moto;
the Lambda layer never imports them."""
