package io.edgefleet.engine.recalib;

/**
 * Input patches of a 2-D convolution (NCHW): the vector a {@code Conv} multiplies with one row of its weight
 * matrix at one output position, in the weights' own order (channel, kernel row, kernel column). Padding reads as
 * zero. This turns a convolution into the linear regression {@code y[o, position] = W[o, :] · patch(position) + b[o]}
 * that the least-squares refit and bias correction work on.
 */
public final class Im2Col {
    private final int channels;
    private final int height;
    private final int width;
    private final int kh;
    private final int kw;
    private final int strideH;
    private final int strideW;
    private final int padTop;
    private final int padLeft;
    private final int dilH;
    private final int dilW;
    private final int outH;
    private final int outW;

    /**
     * @param channels input channels read per patch (all of them: group 1 only)
     * @throws IllegalArgumentException for a convolution that is not 2-D with explicit or VALID padding
     */
    public Im2Col(LinearLayer layer, int channels, int height, int width) {
        if (!layer.isConv() || !layer.im2colSupported()) {
            throw new IllegalArgumentException("layer " + layer.name() + " is not a 2-D convolution with explicit pads");
        }
        LinearLayer.ConvGeometry c = layer.conv();
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.kh = c.kernel()[0];
        this.kw = c.kernel()[1];
        this.strideH = c.strides()[0];
        this.strideW = c.strides()[1];
        boolean valid = c.autoPad().equals("VALID");
        this.padTop = valid ? 0 : c.pads()[0];
        this.padLeft = valid ? 0 : c.pads()[1];
        int padBottom = valid ? 0 : c.pads()[2];
        int padRight = valid ? 0 : c.pads()[3];
        this.dilH = c.dilations()[0];
        this.dilW = c.dilations()[1];
        this.outH = (height + padTop + padBottom - dilH * (kh - 1) - 1) / strideH + 1;
        this.outW = (width + padLeft + padRight - dilW * (kw - 1) - 1) / strideW + 1;
        if (outH <= 0 || outW <= 0) {
            throw new IllegalArgumentException("layer " + layer.name() + " has an empty output for input " + height + "x"
                    + width);
        }
    }

    public int features() {
        return channels * kh * kw;
    }

    public int positions() {
        return outH * outW;
    }

    public int outHeight() {
        return outH;
    }

    public int outWidth() {
        return outW;
    }

    /**
     * Writes the patch of output position {@code position} (row-major over the output map) of the sample starting
     * at {@code sampleOffset} in {@code input} into {@code dst} from {@code dstOff}.
     */
    public void patch(float[] input, int sampleOffset, int position, float[] dst, int dstOff) {
        int oy = position / outW;
        int ox = position % outW;
        int k = dstOff;
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            int base = sampleOffset + c * plane;
            for (int ky = 0; ky < kh; ky++) {
                int iy = oy * strideH - padTop + ky * dilH;
                boolean rowIn = iy >= 0 && iy < height;
                for (int kx = 0; kx < kw; kx++) {
                    int ix = ox * strideW - padLeft + kx * dilW;
                    dst[k++] = rowIn && ix >= 0 && ix < width ? input[base + iy * width + ix] : 0f;
                }
            }
        }
    }
}
