#include "vpxglue.h"

#include <stdlib.h>
#include <string.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

static const char *detail_or_error(vpx_codec_ctx_t *ctx) {
	const char *d = vpx_codec_error_detail(ctx);
	return d ? d : vpx_codec_error(ctx);
}

vpx_codec_err_t sc_vp8_enc_open(const sc_vp8_params *p, sc_vp8_enc **out, const char **detail) {
	*out = NULL;
	*detail = NULL;
	sc_vp8_enc *e = calloc(1, sizeof *e);
	if (!e) return VPX_CODEC_MEM_ERROR;
	vpx_codec_err_t err = vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &e->cfg, 0);
	if (err) { free(e); return err; }

	vpx_codec_enc_cfg_t *c = &e->cfg;
	c->g_w = p->width;
	c->g_h = p->height;
	c->g_timebase.num = p->tb_num;
	c->g_timebase.den = p->tb_den;
	c->g_threads = p->threads;
	c->g_pass = VPX_RC_ONE_PASS;
	c->g_lag_in_frames = 0; // a frame in gives its packet out at once
	c->g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
	c->rc_end_usage = VPX_CBR;
	c->rc_target_bitrate = p->kbps;
	c->rc_min_quantizer = p->min_q;
	c->rc_max_quantizer = p->max_q;
	c->rc_undershoot_pct = p->undershoot_pct;
	c->rc_overshoot_pct = p->overshoot_pct;
	c->rc_buf_sz = p->buf_ms;
	c->rc_buf_initial_sz = p->buf_initial_ms;
	c->rc_buf_optimal_sz = p->buf_optimal_ms;
	c->rc_dropframe_thresh = 0; // every timeline frame must produce a packet
	c->rc_resize_allowed = 0;
	c->kf_mode = VPX_KF_AUTO;
	c->kf_min_dist = 0;
	c->kf_max_dist = p->kf_max_dist;

	err = vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), &e->cfg, 0);
	if (err) {
		*detail = vpx_codec_err_to_string(err);
		free(e);
		return err;
	}
	e->width = p->width;
	e->height = p->height;

#define CTRL(id, v)                                          \
	do {                                                     \
		err = vpx_codec_control_(&e->ctx, id, (int)(v));     \
		if (err) {                                           \
			*detail = #id;                                   \
			vpx_codec_destroy(&e->ctx);                      \
			free(e);                                         \
			return err;                                      \
		}                                                    \
	} while (0)
	CTRL(VP8E_SET_CPUUSED, p->cpu_used);
	CTRL(VP8E_SET_STATIC_THRESHOLD, p->static_thresh);
	CTRL(VP8E_SET_TOKEN_PARTITIONS, p->token_partitions);
	CTRL(VP8E_SET_MAX_INTRA_BITRATE_PCT, p->max_intra_pct);
	CTRL(VP8E_SET_NOISE_SENSITIVITY, 0); // the denoiser costs CPU; our sources are clean
	CTRL(VP8E_SET_ENABLEAUTOALTREF, 0);  // needs lag frames, which we do not allow
#undef CTRL
	*out = e;
	return VPX_CODEC_OK;
}

// The planes are wrapped, not copied: VP8's lookahead copies the picture
// into its own buffer inside vpx_codec_encode (with lag 0 it never keeps
// the caller's pointer), so Go memory is not referenced after we return.
vpx_codec_err_t sc_vp8_enc_encode(sc_vp8_enc *e, uint8_t *y, uint8_t *u, uint8_t *v,
                                  int ystride, int ustride, int vstride, int64_t pts,
                                  int force_key) {
	vpx_image_t img;
	if (!vpx_img_wrap(&img, VPX_IMG_FMT_I420, e->width, e->height, 1, y)) return VPX_CODEC_INVALID_PARAM;
	img.planes[VPX_PLANE_Y] = y;
	img.planes[VPX_PLANE_U] = u;
	img.planes[VPX_PLANE_V] = v;
	img.stride[VPX_PLANE_Y] = ystride;
	img.stride[VPX_PLANE_U] = ustride;
	img.stride[VPX_PLANE_V] = vstride;
	e->iter = NULL;
	return vpx_codec_encode(&e->ctx, &img, pts, 1, force_key ? VPX_EFLAG_FORCE_KF : 0,
	                        VPX_DL_REALTIME);
}

int sc_vp8_enc_next(sc_vp8_enc *e, const void **buf, size_t *size, int *key) {
	const vpx_codec_cx_pkt_t *pkt;
	while ((pkt = vpx_codec_get_cx_data(&e->ctx, &e->iter)) != NULL) {
		if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
		*buf = pkt->data.frame.buf;
		*size = pkt->data.frame.sz;
		*key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
		return 1;
	}
	return 0;
}

vpx_codec_err_t sc_vp8_enc_set_kbps(sc_vp8_enc *e, int kbps) {
	e->cfg.rc_target_bitrate = kbps;
	return vpx_codec_enc_config_set(&e->ctx, &e->cfg);
}

const char *sc_vp8_enc_error(sc_vp8_enc *e) { return detail_or_error(&e->ctx); }

void sc_vp8_enc_close(sc_vp8_enc *e) {
	vpx_codec_destroy(&e->ctx);
	free(e);
}

vpx_codec_err_t sc_vp8_dec_open(int threads, sc_vp8_dec **out) {
	*out = NULL;
	sc_vp8_dec *d = calloc(1, sizeof *d);
	if (!d) return VPX_CODEC_MEM_ERROR;
	vpx_codec_dec_cfg_t cfg = {0};
	cfg.threads = threads;
	vpx_codec_err_t err = vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, 0);
	if (err) { free(d); return err; }
	*out = d;
	return VPX_CODEC_OK;
}

// VP8 decodes synchronously: the data is consumed before this returns.
vpx_codec_err_t sc_vp8_dec_decode(sc_vp8_dec *d, const uint8_t *data, unsigned int size) {
	d->iter = NULL;
	return vpx_codec_decode(&d->ctx, data, size, NULL, 0);
}

vpx_image_t *sc_vp8_dec_next(sc_vp8_dec *d) { return vpx_codec_get_frame(&d->ctx, &d->iter); }

const char *sc_vp8_dec_error(sc_vp8_dec *d) { return detail_or_error(&d->ctx); }

void sc_vp8_dec_close(sc_vp8_dec *d) {
	vpx_codec_destroy(&d->ctx);
	free(d);
}
