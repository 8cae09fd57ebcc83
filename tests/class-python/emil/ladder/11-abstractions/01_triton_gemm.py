import triton

def launch(a, b, c)
    pass
