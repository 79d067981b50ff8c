// Command chatstream streams chat answers from Bedrock with the AWS SDK for Go v2, the way the classic
// example programs do, and prints what each turn received as one JSON line.
//
//	chatstream -op invoke|converse -model MODEL_ID -turns N < prompts.json
//
// The client is built exactly as those programs build it: config.LoadDefaultConfig and
// bedrockruntime.NewFromConfig, with the SDK's default HTTP client. The endpoint, region and credentials come
// from the environment (AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_REGION, AWS_ACCESS_KEY_ID, ...), as they would
// for an unmodified program pointed at a local runtime. The answer is read the way those programs read it: a
// range over the stream's Events() channel, which simply ends when the SDK stops delivering events. That is
// what makes a truncated stream invisible to them, so this program also records whether the last event
// (the stop reason) arrived and what the stream's Err() said, for the test to judge.
//
// Standard input holds a JSON array of prompts; turn i sends prompt i modulo their number, one turn after
// the other on the same client, as a chat does.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// turn is what one streamed answer delivered.
type turn struct {
	Turn    int    `json:"turn"`
	Prompt  int    `json:"prompt"`
	Text    string `json:"text"`
	Events  int    `json:"events"`
	Stopped bool   `json:"stopped"` // the event carrying the stop reason arrived
	Err     string `json:"err,omitempty"`
}

// chatChunk is one chunk of Mistral's chat dialect (or, with outputs, of its text dialect).
type chatChunk struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		StopReason *string `json:"stop_reason"`
	} `json:"choices"`
	Outputs []struct {
		Text       string  `json:"text"`
		StopReason *string `json:"stop_reason"`
	} `json:"outputs"`
}

func invokeTurn(ctx context.Context, client *bedrockruntime.Client, model, prompt string) turn {
	body, err := json.Marshal(map[string]any{
		"messages":   []map[string]string{{"role": "user", "content": prompt}},
		"max_tokens": 512,
	})
	if err != nil {
		log.Fatal(err)
	}
	output, err := client.InvokeModelWithResponseStream(ctx, &bedrockruntime.InvokeModelWithResponseStreamInput{
		ModelId:     aws.String(model),
		ContentType: aws.String("application/json"),
		Body:        body,
	})
	if err != nil {
		return turn{Err: "call: " + err.Error()}
	}
	var result turn
	stream := output.GetStream()
	for event := range stream.Events() {
		result.Events++
		chunk, ok := event.(*types.ResponseStreamMemberChunk)
		if !ok {
			continue
		}
		var decoded chatChunk
		if err := json.NewDecoder(bytes.NewReader(chunk.Value.Bytes)).Decode(&decoded); err != nil {
			result.Err = "chunk: " + err.Error()
			break
		}
		for _, choice := range decoded.Choices {
			result.Text += choice.Message.Content
			result.Stopped = result.Stopped || choice.StopReason != nil
		}
		for _, out := range decoded.Outputs {
			result.Text += out.Text
			result.Stopped = result.Stopped || out.StopReason != nil
		}
	}
	if err := stream.Err(); err != nil && result.Err == "" {
		result.Err = "stream: " + err.Error()
	}
	_ = stream.Close()
	return result
}

func converseTurn(ctx context.Context, client *bedrockruntime.Client, model, prompt string) turn {
	output, err := client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{
		ModelId: aws.String(model),
		Messages: []types.Message{{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: prompt}},
		}},
	})
	if err != nil {
		return turn{Err: "call: " + err.Error()}
	}
	var result turn
	stream := output.GetStream()
	for event := range stream.Events() {
		result.Events++
		switch v := event.(type) {
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			if text, ok := v.Value.Delta.(*types.ContentBlockDeltaMemberText); ok {
				result.Text += text.Value
			}
		case *types.ConverseStreamOutputMemberMessageStop:
			result.Stopped = true
		}
	}
	if err := stream.Err(); err != nil {
		result.Err = "stream: " + err.Error()
	}
	_ = stream.Close()
	return result
}

func main() {
	op := flag.String("op", "invoke", "invoke (InvokeModelWithResponseStream) or converse (ConverseStream)")
	model := flag.String("model", "mistral.mistral-large-2407-v1:0", "model id")
	turns := flag.Int("turns", 100, "how many streamed answers to ask for")
	flag.Parse()

	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	var prompts []string
	if err := json.Unmarshal(raw, &prompts); err != nil || len(prompts) == 0 {
		log.Fatalf("standard input must be a JSON array of prompts: %v", err)
	}

	ctx := context.Background()
	sdkConfig, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatalf("load config: %v", err)
	}
	client := bedrockruntime.NewFromConfig(sdkConfig)

	out := json.NewEncoder(os.Stdout)
	for i := 0; i < *turns; i++ {
		k := i % len(prompts)
		var result turn
		switch *op {
		case "invoke":
			result = invokeTurn(ctx, client, *model, prompts[k])
		case "converse":
			result = converseTurn(ctx, client, *model, prompts[k])
		default:
			fmt.Fprintf(os.Stderr, "unknown -op %q\n", *op)
			os.Exit(2)
		}
		result.Turn, result.Prompt = i, k
		if err := out.Encode(result); err != nil {
			log.Fatal(err)
		}
	}
}
