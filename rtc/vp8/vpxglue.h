// C side of the VP8 wrapper. The helpers exist because cgo cannot call
// libvpx's macros (vpx_codec_enc_init, vpx_codec_control) or read the
// union inside vpx_codec_cx_pkt_t, and because the codec context and the
// config it points to must live in C memory for the encoder's lifetime.
#ifndef SEGCAST_VPXGLUE_H
#define SEGCAST_VPXGLUE_H

#include <stddef.h>
#include <stdint.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

typedef struct {
	int width, height;
	int tb_num, tb_den; // seconds per pts tick
	int threads;
	int kbps;
	int kf_max_dist;
	int cpu_used;
	int static_thresh;
	int token_partitions; // log2 of the partition count
	int max_intra_pct;
	int min_q, max_q;
	int undershoot_pct, overshoot_pct;
	int buf_ms, buf_initial_ms, buf_optimal_ms;
} sc_vp8_params;

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg; // libvpx keeps a pointer to it
	vpx_codec_iter_t iter;
	int width, height;
} sc_vp8_enc;

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_iter_t iter;
} sc_vp8_dec;

vpx_codec_err_t sc_vp8_enc_open(const sc_vp8_params *p, sc_vp8_enc **out, const char **detail);
vpx_codec_err_t sc_vp8_enc_encode(sc_vp8_enc *e, uint8_t *y, uint8_t *u, uint8_t *v,
                                  int ystride, int ustride, int vstride, int64_t pts,
                                  int force_key);
int sc_vp8_enc_next(sc_vp8_enc *e, const void **buf, size_t *size, int *key);
vpx_codec_err_t sc_vp8_enc_set_kbps(sc_vp8_enc *e, int kbps);
const char *sc_vp8_enc_error(sc_vp8_enc *e);
void sc_vp8_enc_close(sc_vp8_enc *e);

vpx_codec_err_t sc_vp8_dec_open(int threads, sc_vp8_dec **out);
vpx_codec_err_t sc_vp8_dec_decode(sc_vp8_dec *d, const uint8_t *data, unsigned int size);
vpx_image_t *sc_vp8_dec_next(sc_vp8_dec *d);
const char *sc_vp8_dec_error(sc_vp8_dec *d);
void sc_vp8_dec_close(sc_vp8_dec *d);

#endif
