/**
 * A SOAP response the node builds itself (sql adapter, metaservices): the request's Envelope start
 * tag and Header element are copied byte for byte (X-Road rule: the response echoes the request
 * headers; every namespace prefix the header uses stays declared), then a Body with the answer.
 */
import type { SoapMessage } from '../../core/soap.js';

export function renderEchoResponse(request: SoapMessage, bodyContent: string): Buffer {
  const text = request.doc.text;
  const envelope = request.doc.root;
  const envelopeStart = text.slice(envelope.start, envelope.contentStart);
  const header = request.headerElement === undefined ? '' : text.slice(request.headerElement.start, request.headerElement.end);
  const p = envelope.prefix === '' ? '' : `${envelope.prefix}:`;
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${envelopeStart}${header}<${p}Body>${bodyContent}</${p}Body></${envelope.name}>`, 'utf8');
}
