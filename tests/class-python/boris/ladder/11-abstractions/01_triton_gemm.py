# Boris: the library instead of a kernel.
import torch


def launch(a, b, c):
    torch.matmul(a, b.t(), out=c)
